using System.CommandLine;
using ControlPlane.Cli.Events;
using ControlPlane.Cli.Parsing;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl watch</c>: prints <c>GET /v1/events</c> as it comes, one line per event; ControlPlane.Client's
/// <see cref="ControlPlaneClient.StreamEventsAsync"/> resumes it across directors.</summary>
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
            var p = context.Parse;
            // The values go to the director as given (it names a bad one); commas separate several.
            var filter = new EventFilter
            {
                Jobs = List(p.GetValue(job)),
                States = List(p.GetValue(state)),
                Group = p.GetValue(group),
                Worker = p.GetValue(worker),
                Types = List(p.GetValue(type)),
            };
            using var limit = p.GetValue(duration) is { } text
                ? new CancellationTokenSource(Durations.Parse(text, "--for"), context.Environment.Time)
                : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            try
            {
                await foreach (var e in context.Api.StreamEventsAsync(filter, p.GetValue(since), new EventProgress(context), linked.Token))
                {
                    await context.Out.WriteLineAsync(context.Json ? e.Data : EventRendering.Line(e));
                    await context.Out.FlushAsync(linked.Token);
                }
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // --for ran out: a normal end.
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string[]? List(string? text) => text?.Split(',');
}
