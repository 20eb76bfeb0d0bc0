using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>One membership-change round of the scale scenario.</summary>
internal sealed partial class ScaleBench
{
    /// <summary>Reaction times of one round (ms; null when it did not happen within the bound).</summary>
    private sealed record Reaction(double? JoinMs, double? TakeBackMs, double? ReassignMs);

    private static async Task<Reaction> ProbeAsync(BenchCluster cluster, DirectorClient client, int round, CancellationToken cancellationToken)
    {
        var label = $"probe-{round}";
        var spec = new JobSpec
        {
            Executor = "echo",
            Args = JsonDocument.Parse("{}").RootElement,
            Constraints = new Dictionary<string, string>(StringComparer.Ordinal) { ["sim"] = label },
        };
        var job = await client.SubmitAsync(spec, cancellationToken: cancellationToken).ConfigureAwait(false);
        // Sessions are opened before the clock starts: the figure is the leader's reaction, not a store connect.
        var first = await RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        var second = await RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        try
        {
            // Not a retry: let the leader see the job as unplaceable first, so the join is what places it.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            var joinedAt = DateTimeOffset.UtcNow;
            await SimulatedAgents.RegisterAsync(first, $"{label}-a", label, cancellationToken).ConfigureAwait(false);
            var assigned = await PollAsync(client, job.Id, j => j.AssignedAt is not null, cancellationToken).ConfigureAwait(false);
            double? joinMs = assigned is null ? null : (assigned.AssignedAt!.Value - joinedAt).TotalMilliseconds;

            // Worker b joins with the same label (the job is taken, so nothing moves), then a leaves.
            await SimulatedAgents.RegisterAsync(second, $"{label}-b", label, cancellationToken).ConfigureAwait(false);
            // Not a retry: lets the leader see the join before the first worker leaves.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            var leftAt = DateTimeOffset.UtcNow;
            await first.DisposeAsync().ConfigureAwait(false);
            var requeued = await PollAsync(client, job.Id, j => j.Attempt >= 2, cancellationToken).ConfigureAwait(false);
            double? takeBackMs = requeued is null ? null : (DateTimeOffset.UtcNow - leftAt).TotalMilliseconds;
            var moved = await PollAsync(client, job.Id, j => j.Attempt >= 2 && j.AssignedAt is not null, cancellationToken).ConfigureAwait(false);
            double? reassignMs = moved is null ? null : (moved.AssignedAt!.Value - leftAt).TotalMilliseconds;
            BenchReport.Json(new { scenario = "scale", phase = "probe", round, joinMs = Round(joinMs), takeBackMs = Round(takeBackMs), reassignMs = Round(reassignMs), worker = moved?.WorkerId });
            await client.CancelAsync(job.Id, cancellationToken).ConfigureAwait(false);
            return new Reaction(joinMs, takeBackMs, reassignMs);
        }
        finally
        {
            await first.DisposeAsync().ConfigureAwait(false);
            await second.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static double? Round(double? ms) => ms is { } v ? Math.Round(v, 1) : null;

    /// <summary>Polls the job every 20 ms (up to 30 s) until <paramref name="condition"/> holds; null if it never does.</summary>
    private static async Task<JobView?> PollAsync(DirectorClient client, string id, Func<JobView, bool> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (await client.GetJobAsync(id, cancellationToken: cancellationToken).ConfigureAwait(false) is { } job && condition(job))
            {
                return job;
            }

            // Not a retry: the pace of the bounded poll for the job's state.
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }
}
