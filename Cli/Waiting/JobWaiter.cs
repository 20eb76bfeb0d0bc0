using System.Text.Json.Nodes;
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
/// Polls jobs until each is terminal or a deadline passes. The delay between rounds starts at
/// <see cref="FirstDelay"/> and doubles up to <see cref="MaxDelay"/>: quick jobs are seen quickly, long waits
/// cost the directors one request per job every few seconds.
/// </summary>
internal static class JobWaiter
{
    /// <summary>Delay after the first round.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest delay between rounds.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Polls until every job in <paramref name="ids"/> is terminal or <paramref name="timeout"/> has passed.</summary>
    /// <param name="context">Client, clock and delays.</param>
    /// <param name="ids">Jobs to wait for (duplicates are polled once).</param>
    /// <param name="timeout">Deadline measured on the environment's clock.</param>
    /// <param name="minRevision">Revision the first reads must reflect (the submit's), so another director cannot answer 404.</param>
    /// <param name="cancellationToken">Cancels the wait (Ctrl-C).</param>
    public static async Task<WaitOutcome> WaitAsync(CommandContext context, IReadOnlyList<string> ids, TimeSpan timeout, long? minRevision, CancellationToken cancellationToken)
    {
        var time = context.Environment.Time;
        var deadline = time.GetUtcNow() + timeout;
        var last = new Dictionary<string, (JobView Job, JsonNode? Body)>(StringComparer.Ordinal);
        var delay = FirstDelay;
        // The deadline ends the loop; the round bound only guards against a clock that does not move.
        var maxRounds = (long)(timeout / MaxDelay) + 64;
        for (var round = 0L; ; round++)
        {
            foreach (var id in ids.Distinct(StringComparer.Ordinal).Where(id => !last.TryGetValue(id, out var seen) || !seen.Job.State.IsTerminal()))
            {
                var response = await context.Api.GetJobAsync(id, minRevision, cancellationToken);
                last[id] = (response.Read<JobView>(), response.ReadNode());
            }

            var done = last.Values.All(v => v.Job.State.IsTerminal());
            var left = deadline - time.GetUtcNow();
            if (done || left <= TimeSpan.Zero || round >= maxRounds)
            {
                return new WaitOutcome([.. ids.Select(id => last[id].Job)], [.. ids.Select(id => last[id].Body)], TimedOut: !done);
            }

            // The last delay is cut to the deadline, so a timeout is reported on time, not up to MaxDelay late.
            await context.Environment.DelayAsync(delay < left ? delay : left, cancellationToken);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
    }
}
