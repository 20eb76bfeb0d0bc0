using System.CommandLine;
using ControlPlane.Cli.Parsing;
using ControlPlane.Cli.Waiting;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl wait &lt;id&gt;...</c>: polls until every job is terminal; exit 0 only if all Succeeded.</summary>
internal static class WaitCommand
{
    /// <summary>Default <c>--timeout</c>: long enough for most batch jobs, bounded so a script never hangs forever.</summary>
    public const string DefaultTimeout = "1h";

    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var ids = new Argument<string[]>("id") { Description = "Job ids.", Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<string?>("--timeout", "-t") { Description = $"Give up after this long: 30s, 10m, 2h (default {DefaultTimeout})." };
        var command = new Command("wait", "Wait until jobs finish. Exit 0 if all Succeeded, 3 if one did not, 5 on timeout.") { ids, timeout };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var text = context.Parse.GetValue(timeout) ?? DefaultTimeout;
            var limit = Durations.Parse(text, "--timeout");
            var outcome = await JobWaiter.WaitAsync(context, context.Parse.GetValue(ids)!, limit, minRevision: null, cancellationToken);
            return WaitReporting.Report(context, outcome, text);
        });
        return command;
    }
}
