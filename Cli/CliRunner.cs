using System.CommandLine;
using System.Globalization;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using Microsoft.Extensions.Options;

namespace ControlPlane.Cli;

/// <summary>
/// Runs a command's body with a <see cref="ControlPlaneClient"/> (the library does the HTTP: failover, problem+json,
/// Idempotency-Key) and turns every failure into its exit code and one readable message on stderr, so no command prints
/// a stack trace for an expected failure.
/// </summary>
/// <remarks>The client's own retries are off: cpctl retries only a 429, within <c>--retry-for</c> (<see cref="Commands.BusyRetry"/>),
/// and follows the failover rule of docs/cpctl.md, which is the library's.</remarks>
internal sealed class CliRunner(CliEnvironment environment, GlobalOptions globals)
{
    /// <summary>The environment commands run in.</summary>
    public CliEnvironment Environment => environment;

    /// <summary>The global options (commands that do not talk to a director read <c>--output</c> here).</summary>
    public GlobalOptions Globals => globals;

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

        var verbose = parse.GetValue(globals.Verbose) ? error : null;
        var handler = environment.CreateHandler();
        try
        {
            using var api = ControlPlaneClient.Create(
                o =>
                {
                    foreach (var director in directors)
                    {
                        o.Directors.Add(director);
                    }

                    o.Token = string.IsNullOrEmpty(token) ? null : token;
                    o.MaxRetryAttempts = 0;
                    o.OnDirectorAttempt = verbose is null ? null : attempt => Say(verbose, attempt);
                },
                handler,
                environment.Time);
            var json = parse.GetValue(globals.Output) == "json";
            return await body(new CommandContext(parse, api, environment, json, verbose), cancellationToken);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (OptionsValidationException e)
        {
            // --url or --token the client cannot use (a URL with a query, a token with white space).
            await error.WriteLineAsync($"error: {string.Join("; ", e.Failures)}");
            return ExitCodes.Usage;
        }
        catch (ControlPlaneUnreachableException e)
        {
            await error.WriteLineAsync($"error: {Unreachable(e)}");
            return ExitCodes.Unreachable;
        }
        catch (ControlPlaneEventStreamException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Unreachable;
        }
        catch (ControlPlaneException e)
        {
            ProblemRendering.Write(error, e);
            return e is ControlPlaneTooManyPendingException ? ExitCodes.Busy : ExitCodes.RequestFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted");
            return ExitCodes.Interrupted;
        }
        finally
        {
            handler.Dispose();
        }
    }

    /// <summary>cpctl's words for no answer: the one director, every director tried, or the one that may have received a
    /// request that must not be sent twice.</summary>
    internal static string Unreachable(ControlPlaneUnreachableException e)
    {
        var attempts = e.Attempts;
        if (e.StoppedUnrepeatable && attempts.Count > 0 && attempts[^1].Failure is { } reason)
        {
            return $"no answer from the director at {attempts[^1].Director} ({reason}), which may have received the submission; " +
                "not sending it to another director, which could create the job twice. Look for it with 'cpctl list', " +
                "or submit with -k/--idempotency-key, which makes a retry safe.";
        }

        return attempts.Count switch
        {
            0 => e.Message,
            1 => $"cannot reach the director at {attempts[0].Director}: {Reason(attempts[0])}",
            _ => "cannot reach any director: " + string.Join("; ", attempts.Select(a => $"{a.Director} ({Reason(a)})")),
        };
    }

    private static string Reason(DirectorAttempt attempt) =>
        attempt.Failure ?? ((int?)attempt.StatusCode)?.ToString(CultureInfo.InvariantCulture) ?? "no answer";

    /// <summary><c>-v</c>: which director answered each request, and which failed.</summary>
    private static void Say(TextWriter verbose, DirectorAttempt attempt)
    {
        var line = (attempt.StatusCode, attempt.Next) switch
        {
            ({ } status, null) => $"{attempt.Call} answered by {attempt.Director} ({(int)status} {status})",
            ({ } status, { } next) => $"{attempt.Call}: {attempt.Director} answered {(int)status}; trying {next}",
            (null, { } next) => $"{attempt.Call}: {attempt.Director} failed ({attempt.Failure}); trying {next}",
            // The error message that follows names it.
            (null, null) => null,
        };
        if (line is not null)
        {
            verbose.WriteLine(line);
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
