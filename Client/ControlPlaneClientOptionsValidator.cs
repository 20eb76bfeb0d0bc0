using Microsoft.Extensions.Options;

namespace ControlPlane.Client;

/// <summary>Checks <see cref="ControlPlaneClientOptions"/> and names every bad setting in one failure.</summary>
internal sealed class ControlPlaneClientOptionsValidator : IValidateOptions<ControlPlaneClientOptions>
{
    /// <summary>The longest <see cref="ControlPlaneClientOptions.AttemptTimeout"/>: longer hides a dead director.</summary>
    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The most retries: a bound even for a director that answers <c>Retry-After: 0</c> forever.</summary>
    public const int MaxRetries = 100;

    public ValidateOptionsResult Validate(string? name, ControlPlaneClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Directors.Count == 0)
        {
            errors.Add($"{nameof(options.Directors)}: at least one director URL is needed, e.g. http://127.0.0.1:5080.");
        }

        foreach (var director in options.Directors)
        {
            if (director is null || !director.IsAbsoluteUri || director.Scheme is not ("http" or "https"))
            {
                errors.Add($"{nameof(options.Directors)}: '{director}' is not an absolute http or https URL.");
            }
            else if (director.Query.Length > 0 || director.Fragment.Length > 0)
            {
                errors.Add($"{nameof(options.Directors)}: '{director}' has a query or fragment; give the base URL only.");
            }
        }

        // A token with a line break would split the Authorization header; the value itself is never echoed.
        if (options.Token is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
        {
            errors.Add($"{nameof(options.Token)}: empty or contains white space; use null to send no token.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.AttemptTimeout > MaxAttemptTimeout)
        {
            errors.Add($"{nameof(options.AttemptTimeout)}: {options.AttemptTimeout} is not between 0 and {MaxAttemptTimeout}.");
        }

        if (options.MaxRetryAttempts is < 0 or > MaxRetries)
        {
            errors.Add($"{nameof(options.MaxRetryAttempts)}: {options.MaxRetryAttempts} is not between 0 and {MaxRetries}.");
        }

        if (options.RetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(options.RetryDelay)}: {options.RetryDelay} must be positive.");
        }

        if (options.MaxRetryAfter < TimeSpan.Zero)
        {
            errors.Add($"{nameof(options.MaxRetryAfter)}: {options.MaxRetryAfter} must not be negative.");
        }

        if (options.PollInterval < TimeSpan.FromMilliseconds(10))
        {
            errors.Add($"{nameof(options.PollInterval)}: {options.PollInterval} is shorter than 10 ms, which would only load the directors.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
