using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Hosting;

/// <summary>Validates an options class by its own list of problems, reporting all of them at once, so a
/// misconfigured director refuses to start with every mistake named (with <c>ValidateOnStart</c>).</summary>
internal sealed class ProblemsValidator<TOptions>(Func<TOptions, IEnumerable<string>> problems) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var found = problems(options).ToList();
        return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }
}
