using System.CommandLine;
using System.Globalization;
using ControlPlane.Cli.Events;
using ControlPlane.Cli.Parsing;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl watch</c>: prints <c>GET /v1/events</c> as it comes, one line per event, resuming across directors.</summary>
internal static class WatchCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var job = new Option<string?>("--job") { Description = "Only this job's events (several: comma-separated ids)." };
        var state = new Option<string?>("--state") { Description = "Only job events in these states (comma-separated), e.g. Failed,Cancelled." };
        var group = new Option<string?>("--group") { Description = "Only job events of this FIFO group." };
        var worker = new Option<string?>("--worker") { Description = "Only this worker's events and those of the jobs on it." };
        var type = new Option<string?>("--type") { Description = "Only these event types (comma-separated): job, worker, leader, schedule." };
        var since = new Option<long?>("--since") { Description = "Start after this revision (an event id, or a listing's X-Revision) instead of now." };
        var duration = new Option<string?>("--for") { Description = "Stop after this long: 30s, 10m, 2h (default: until interrupted)." };
        var command = new Command("watch", "Print job, worker, leader and schedule changes as they happen (-o json: the events' data, one per line).")
        {
            job, state, group, worker, type, since, duration,
        };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var query = Query(
                ("job", context.Parse.GetValue(job)), ("state", context.Parse.GetValue(state)), ("group", context.Parse.GetValue(group)),
                ("worker", context.Parse.GetValue(worker)), ("type", context.Parse.GetValue(type)));
            using var limit = context.Parse.GetValue(duration) is { } text
                ? new CancellationTokenSource(Durations.Parse(text, "--for"), context.Environment.Time)
                : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            var follower = new EventFollower(context, query);
            try
            {
                await follower.FollowAsync(context.Parse.GetValue(since), async e =>
                {
                    await context.Out.WriteLineAsync(context.Json ? e.Data : EventRendering.Line(e));
                    await context.Out.FlushAsync(linked.Token);
                    return FollowDecision.Continue;
                }, linked.Token);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // --for ran out: a normal end.
            }
            catch (Exception e) when (e is EventStreamUnavailableException or IOException or HttpRequestException)
            {
                // The reconnect pipeline gave up (or a director answered something that is not a stream).
                await context.Error.WriteLineAsync($"error: {e.Message}");
                return ExitCodes.Unreachable;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>?a=1&amp;b=2</c> of the given parameters, escaped; empty when none is set.</summary>
    internal static string Query(params (string Name, string? Value)[] parameters)
    {
        var set = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? "" : "?" + string.Join("&", set);
    }

    /// <summary>A revision as a query value.</summary>
    internal static string Revision(long revision) => revision.ToString(CultureInfo.InvariantCulture);
}
