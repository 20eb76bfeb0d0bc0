using System.CommandLine;

namespace ControlPlane.Cli;

/// <summary>
/// Options every command takes (<c>--url</c>, <c>--token</c>, <c>--output</c>, <c>--verbose</c>). The environment fallbacks
/// are resolved at run time, not as option defaults, so <c>--help</c> never prints the token.
/// </summary>
internal sealed class GlobalOptions
{
    /// <summary>Environment variable read when <c>--url</c> is not given.</summary>
    public const string UrlVariable = "CONTROLPLANE_URL";

    /// <summary>Environment variable read when <c>--token</c> is not given.</summary>
    public const string TokenVariable = "CONTROLPLANE_TOKEN";

    /// <summary>URL used when neither <c>--url</c> nor <see cref="UrlVariable"/> is set.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary><c>--url</c>: the director to talk to, or several separated by commas (tried in turn).</summary>
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"Director URL, or several separated by commas, tried in turn when one is down (env {UrlVariable}; default {DefaultUrl}). Any director serves every command.",
        Recursive = true,
    };

    /// <summary><c>-v</c>, <c>--verbose</c>: say on stderr which director answered each request, and which failed.</summary>
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Print on stderr which director answered each request, and which ones failed.",
        Recursive = true,
    };

    /// <summary><c>--token</c>: the bearer token.</summary>
    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Bearer token (env {TokenVariable}).",
        Recursive = true,
    };

    /// <summary><c>--output</c>: <c>table</c> or <c>json</c>.</summary>
    public Option<string> Output { get; } = CreateOutput();

    /// <summary>Adds the options to the root command, inherited by every subcommand.</summary>
    public void AddTo(RootCommand root)
    {
        root.Options.Add(Url);
        root.Options.Add(Token);
        root.Options.Add(Output);
        root.Options.Add(Verbose);
    }

    private static Option<string> CreateOutput()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "table (for people) or json (the API's JSON, indented, for scripts).",
            DefaultValueFactory = _ => "table",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }
}
