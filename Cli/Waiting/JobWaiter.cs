using System.Text.Json.Nodes;
using ControlPlane.Cli.Events;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Waiting;

/// <summary>The last view of each awaited job, and whether the wait ended before all of them finished.</summary>
/// <param name="Jobs">Last view per job, in the order asked.</param>
/// <param name="Bodies">The same views as the API's JSON.</param>
/// <param name="TimedOut">True when the deadline passed with some job not terminal.</param>
internal sealed record WaitOutcome(IReadOnlyList<JobView> Jobs, IReadOnlyList<JsonNode?> Bodies, bool TimedOut)
{
    /// <summary>The exit code the outcome stands for.</summary>
    public int ExitCode => TimedOut ? ExitCodes.WaitTimedOut
        : Jobs.All(j => j.State == JobState.Succeeded) ? ExitCodes.Success
        : ExitCodes.NotSucceeded;
}

/// <summary>
/// Waits for jobs to finish: reads each once, then follows their events on <c>GET /v1/events?type=job&amp;job=…</c> from
/// the revision those reads reflect (so no change in between is missed), across directors (ControlPlane.Client's
/// <see cref="ControlPlaneClient.StreamEventsAsync"/>).
/// When no director serves the stream (an older director, a proxy that buffers, every stream attempt failing), it says
/// so on stderr and polls instead: the delay between rounds starts at <see cref="FirstDelay"/> and doubles up to
/// <see cref="MaxDelay"/>, so quick jobs are seen quickly and long waits cost one request per job every few seconds.
/// </summary>
internal static class JobWaiter
{
    /// <summary>Delay after the first round of polling.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest delay between rounds of polling.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Waits until every job in <paramref name="ids"/> is terminal or <paramref name="timeout"/> has passed.</summary>
    /// <param name="context">Client, clock and delays.</param>
    /// <param name="ids">Jobs to wait for (duplicates are read once).</param>
    /// <param name="timeout">Deadline measured on the environment's clock.</param>
    /// <param name="minRevision">Revision the first reads must reflect (the submit's), so another director cannot answer 404.</param>
    /// <param name="cancellationToken">Cancels the wait (Ctrl-C).</param>
    public static async Task<WaitOutcome> WaitAsync(CommandContext context, IReadOnlyList<string> ids, TimeSpan timeout, long? minRevision, CancellationToken cancellationToken)
    {
        var time = context.Environment.Time;
        var deadline = time.GetUtcNow() + timeout;
        var last = new Dictionary<string, (JobView Job, JsonNode? Body)>(StringComparer.Ordinal);
        await ReadAsync(context, ids, last, minRevision, cancellationToken);
        if (!Done(last) && ids.Distinct(StringComparer.Ordinal).Count() <= MaxStreamedJobs)
        {
            var left = deadline - time.GetUtcNow();
            if (left > TimeSpan.Zero && await StreamAsync(context, last, left, cancellationToken) is { } problem)
            {
                await context.Error.WriteLineAsync($"note: {problem}; polling instead");
                await PollAsync(context, ids, last, deadline, minRevision, cancellationToken);
            }
        }
        else if (!Done(last))
        {
            await PollAsync(context, ids, last, deadline, minRevision, cancellationToken);
        }

        return new WaitOutcome([.. ids.Select(id => last[id].Job)], [.. ids.Select(id => last[id].Body)], TimedOut: !Done(last));
    }

    /// <summary>Most jobs one stream follows (the director's limit on one <c>job</c> filter); more are polled.</summary>
    public const int MaxStreamedJobs = 100;

    /// <summary>Follows the unfinished jobs' events until all are terminal or <paramref name="left"/> passes; returns why
    /// the stream could not be used (then the caller polls), or null.</summary>
    private static async Task<string?> StreamAsync(
        CommandContext context, Dictionary<string, (JobView Job, JsonNode? Body)> last, TimeSpan left, CancellationToken cancellationToken)
    {
        var waiting = last.Where(p => !p.Value.Job.State.IsTerminal()).Select(p => p.Key).ToList();
        // Every read reflects at least the smallest revision among them: the stream starts there, so nothing after the
        // reads is missed (a change seen twice is harmless).
        var since = last.Values.Min(v => v.Job.Revision);
        var filter = new EventFilter { Types = ["job"], Jobs = waiting };
        using var limit = new CancellationTokenSource(left, context.Environment.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await foreach (var e in context.Api.StreamEventsAsync(filter, since, new EventProgress(context), linked.Token))
            {
                if (e.Type == "resync")
                {
                    // Changes were lost to the stream: read the jobs again, as at the start.
                    await ReadAsync(context, [.. last.Where(p => !p.Value.Job.State.IsTerminal()).Select(p => p.Key)], last, null, linked.Token);
                }
                else if (e.Type == "job" && e.Json()?["job"] is JsonObject body && body["id"]?.GetValue<string>() is { } id && last.ContainsKey(id))
                {
                    var view = ContractJson.Deserialize<JobView>(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
                    // Never go back: a resumed stream may repeat an older change.
                    if (view.Revision >= last[id].Job.Revision)
                    {
                        last[id] = (view, body);
                    }
                }

                if (Done(last))
                {
                    break;
                }
            }

            return null;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null; // the deadline: the outcome says TimedOut
        }
        catch (ControlPlaneException e) when (e.StatusCode is { } status && e is not ControlPlaneAuthorizationException)
        {
            return $"the event stream is unavailable ({(int)status} {e.Problem?.Title ?? e.Message})";
        }
        catch (ControlPlaneException e) when (e is ControlPlaneUnreachableException or ControlPlaneEventStreamException)
        {
            return $"the event stream is unavailable ({(e is ControlPlaneUnreachableException unreachable ? CliRunner.Unreachable(unreachable) : e.Message)})";
        }
    }

    private static async Task PollAsync(
        CommandContext context, IReadOnlyList<string> ids, Dictionary<string, (JobView Job, JsonNode? Body)> last, DateTimeOffset deadline, long? minRevision,
        CancellationToken cancellationToken)
    {
        var time = context.Environment.Time;
        var delay = FirstDelay;
        // The deadline ends the loop; the round bound only guards against a clock that does not move.
        var maxRounds = (long)((deadline - time.GetUtcNow()) / MaxDelay) + 64;
        for (var round = 0L; round < maxRounds && !Done(last); round++)
        {
            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            // The last delay is cut to the deadline, so a timeout is reported on time, not up to MaxDelay late.
            await context.Environment.DelayAsync(delay < left ? delay : left, cancellationToken);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
            await ReadAsync(context, ids, last, minRevision, cancellationToken);
        }
    }

    /// <summary>Reads every job of <paramref name="ids"/> not yet known terminal.</summary>
    private static async Task ReadAsync(
        CommandContext context, IReadOnlyList<string> ids, Dictionary<string, (JobView Job, JsonNode? Body)> last, long? minRevision, CancellationToken cancellationToken)
    {
        foreach (var id in ids.Distinct(StringComparer.Ordinal).Where(id => !last.TryGetValue(id, out var seen) || !seen.Job.State.IsTerminal()))
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetJob(id, minRevision), cancellationToken);
            last[id] = (response.Value, JsonOutput.Node(response.Content));
        }
    }

    private static bool Done(Dictionary<string, (JobView Job, JsonNode? Body)> last) => last.Values.All(v => v.Job.State.IsTerminal());
}
