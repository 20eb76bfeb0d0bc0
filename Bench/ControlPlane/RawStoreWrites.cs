using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The store write a director makes for one submission without an idempotency key (JobSubmission): one transaction
/// creating <c>jobs/&lt;bucket&gt;/&lt;id&gt;</c> with the normalized JobRecord, made directly through
/// <see cref="ICoordinationStore"/> from the bench process, spread over one store connection per director (each
/// director has one), so the store sees the same number of connections as under the API load.
/// </summary>
internal static class RawStoreWrites
{
    /// <summary>Connects to <paramref name="target"/> as a director would (same root and session timeout).</summary>
    public static Task<ICoordinationStore> ConnectAsync(StoreTarget target, CancellationToken cancellationToken) =>
        new StoreOptions { Backend = target.Backend, Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = target.SessionTimeout }
            .ConnectAsync(cancellationToken: cancellationToken);

    /// <summary><paramref name="count"/> job creations, <paramref name="concurrency"/> in flight, round-robin over
    /// <paramref name="stores"/>; returns each one's latency (ms) and the wall time of the whole run.</summary>
    public static async Task<(List<double> Latencies, double Seconds)> RunAsync(
        IReadOnlyList<ICoordinationStore> stores, JobSpec spec, int count, int concurrency, CancellationToken cancellationToken)
    {
        var normalized = JobSpecValidator.Normalize(spec);
        var latencies = new ConcurrentBag<double>();
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var store = stores[i % stores.Count];
            var t = Stopwatch.GetTimestamp();
            // Built per request, as the director builds it: id, record, serialization are part of the write's cost.
            var job = new JobRecord { Id = JobIds.New(), Spec = normalized, State = JobState.Pending, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };
            var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job)), ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"The store refused to create job {job.Id}.");
            }

            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }).ConfigureAwait(false);
        return ([.. latencies], Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
