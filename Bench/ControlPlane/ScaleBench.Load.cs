using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The loaded part of the scale scenario (<c>--jobs N</c>): N jobs constrained to the simulated pool are written
/// straight into the store (the API's record, without the HTTP hop), the leader places them until the pool is full,
/// and then, with the pool full and the rest pending, simulated agents finish <c>--churn-rate</c> attempts a second
/// for <c>--churn-seconds</c> (an agent's result write on the assignment's version), so the leader folds results and
/// places pending jobs on the freed slots. The leader's pass durations come from its own histogram
/// (<c>/metrics</c>), read before and after each phase.
/// </summary>
internal sealed partial class ScaleBench
{
    /// <summary>The label every simulated pool worker carries and every bulk job requires.</summary>
    private const string Pool = "bulk";

    private sealed record LoadFigures(
        int Jobs, double SubmitSeconds, double PlaceSeconds, int Finished, double ChurnSeconds,
        double? LoadingP50, double? LoadingP99, long LoadingPasses, double? ChurnP50, double? ChurnP99, long ChurnPasses, double? ProbeP99);

    /// <summary>Writes <paramref name="count"/> Pending jobs (32 per transaction) through <paramref name="stores"/>.</summary>
    private static async Task<double> SubmitBulkAsync(IReadOnlyList<ICoordinationStore> stores, int count, CancellationToken cancellationToken)
    {
        var spec = JobSpecValidator.Normalize(new JobSpec
        {
            Executor = "echo",
            Constraints = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = Pool },
        });
        var started = Stopwatch.GetTimestamp();
        const int PerTransaction = 32;
        var batches = (count + PerTransaction - 1) / PerTransaction;
        await Parallel.ForAsync(0, batches, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            var transaction = new Transaction();
            for (var i = b * PerTransaction; i < Math.Min(count, (b + 1) * PerTransaction); i++)
            {
                var job = new JobRecord { Id = JobIds.New(), Spec = spec, State = JobState.Pending, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };
                transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
            }

            var result = await stores[b % stores.Count].CommitAsync(transaction, ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException("The store refused a batch of new jobs.");
            }
        }).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Waits (bounded) until the leader has committed <paramref name="placements"/> placements since
    /// <paramref name="before"/>; returns the seconds it took.</summary>
    private static async Task<double> WaitForPlacementAsync(DirectorProcess leader, double before, int placements, TimeSpan bound, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < bound)
        {
            if (await PlacementsAsync(leader, cancellationToken).ConfigureAwait(false) - before >= placements)
            {
                return Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            // Not a retry: the pace of the bounded poll for the placements to be counted.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"The leader did not place the jobs within {bound}.");
    }

    /// <summary>Placements the leader has committed since it started.</summary>
    private static async Task<double> PlacementsAsync(DirectorProcess leader, CancellationToken cancellationToken) =>
        (await DirectorMetricsScrape.ScrapeAsync(leader, "kind=\"place\"", cancellationToken).ConfigureAwait(false)).GetValueOrDefault("controlplane_scheduler_writes_total");

    /// <summary>
    /// For <paramref name="seconds"/>, finishes about <paramref name="perSecond"/> attempts a second, as their agents
    /// would (Succeeded, on the version read), picked from a watch-fed cache of the assignments. Returns how many.
    /// </summary>
    private static async Task<int> ChurnAsync(ICoordinationStore store, int perSecond, double seconds, CancellationToken cancellationToken)
    {
        await using var assignments = new WatchCache(store, StoreLayout.Assignments);
        await assignments.StartAsync(cancellationToken).ConfigureAwait(false);
        var finished = 0;
        var started = Stopwatch.GetTimestamp();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var tick = TimeSpan.FromMilliseconds(100);
        var perTick = Math.Max(1, perSecond / 10);
        while (Stopwatch.GetElapsedTime(started).TotalSeconds < seconds)
        {
            var picked = assignments.Items.Values.Where(i => !done.Contains(i.Key)).Take(perTick).ToList();
            await Parallel.ForEachAsync(picked, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                var record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
                var report = record with { State = AttemptState.Succeeded, ExitCode = 0, StartedAt = DateTimeOffset.UtcNow, FinishedAt = DateTimeOffset.UtcNow };
                var result = await store.CommitAsync(new Transaction().Update(item.Key, ContractJson.Serialize(report), item.Version), ct).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    Interlocked.Increment(ref finished);
                }
            }).ConfigureAwait(false);
            done.UnionWith(picked.Select(p => p.Key));
            // Not a retry: the simulated agents' tick between two rounds of reports.
            await Task.Delay(tick, cancellationToken).ConfigureAwait(false);
        }

        return finished;
    }
}
