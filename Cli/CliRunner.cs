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
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"error: --url must be an absolute http(s) URL; got '{url}'");
            return ExitCodes.Usage;
        }

        try
        {
            using var api = new ApiClient(baseUrl, token, environment.CreateHandler());
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
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"error: cannot reach the director at {baseUrl}: {e.Message}");
            return ExitCodes.Unreachable;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted");
            return ExitCodes.Interrupted;
        }
        catch (TaskCanceledException)
        {
            // Not our token: HttpClient.Timeout expired, the director accepted the connection but never answered.
            await error.WriteLineAsync($"error: the director at {baseUrl} did not answer in time");
            return ExitCodes.Unreachable;
        }
    }
}
