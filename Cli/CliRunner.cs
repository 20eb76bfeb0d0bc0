using System.CommandLine;
using ControlPlane.Cli.Http;
using ControlPlane.Cli.Rendering;

namespace ControlPlane.Cli;

/// <summary>
/// Runs a command's body with an <see cref="ApiClient"/> and turns every failure into its exit code and
/// one readable message on stderr, so no command prints a stack trace for an expected failure.
/// </summary>
internal sealed class CliRunner(CliEnvironment environment, GlobalOptions globals)
{
    /// <summary>The environment commands run in.</summary>
    public CliEnvironment Environment => environment;

    /// <summary>Makes <paramref name="body"/> the action of <paramref name="command"/>.</summary>
    public void Bind(Command command, Func<CommandContext, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, body, cancellationToken));
    }

    private async Task<int> RunAsync(ParseResult parse, Func<CommandContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        var url = parse.GetValue(globals.Url) ?? environment.GetVariable(GlobalOptions.UrlVariable) ?? GlobalOptions.DefaultUrl;
        var token = parse.GetValue(globals.Token) ?? environment.GetVariable(GlobalOptions.TokenVariable);
        var error = environment.Error;
        if (!TryParseUrls(url, out var directors, out var bad))
        {
            await error.WriteLineAsync($"error: --url must be absolute http(s) URLs separated by commas; got '{bad}'");
            return ExitCodes.Usage;
        }

        try
        {
            using var api = new ApiClient(directors, token, environment.CreateHandler(), parse.GetValue(globals.Verbose) ? error : null);
            var json = parse.GetValue(globals.Output) == "json";
            return await body(new CommandContext(parse, api, environment, json), cancellationToken);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (ApiException e)
        {
            ProblemRendering.Write(error, e);
            return e.Status == System.Net.HttpStatusCode.TooManyRequests ? ExitCodes.Busy : ExitCodes.RequestFailed;
        }
        catch (DirectorsUnreachableException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Unreachable;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>Splits <c>--url</c> on commas: every entry an absolute http(s) URL, duplicates dropped, order kept (it is
    /// the order of failover). <paramref name="bad"/> is the first entry that is not one.</summary>
    internal static bool TryParseUrls(string text, out List<Uri> directors, out string? bad)
    {
        directors = [];
        bad = null;
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(entry, UriKind.Absolute, out var director) || director.Scheme is not ("http" or "https"))
            {
                bad = entry;
                return false;
            }

            if (!directors.Contains(director))
            {
                directors.Add(director);
            }
        }

        if (directors.Count == 0)
        {
            bad = text;
            return false;
        }

        return true;
    }
}
