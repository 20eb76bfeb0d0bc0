using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// What running jobs cost the store while they run: J long <c>sleep</c> jobs on M agents, then the store's writes over
/// S seconds, once with agents that beat per attempt (<c>Agent:Features</c> with <c>heartbeat</c>: every running
/// assignment rewritten every heartbeat interval, the behaviour before <c>workerHeartbeat</c>) and once with the
/// default <c>workerHeartbeat</c> (one registration update per agent per interval), each on a store started for it.
/// <c>beats --backend zookeeper|etcd --agents 4 --jobs 1000 --seconds 30</c>. Write transactions per second are the
/// store's own revision (etcd) or zxid (ZooKeeper) advancing over the window: exact on both. The split by tree and the
/// bytes come from a watch of the trees (exact on etcd; ZooKeeper's watches may fold quick successive changes of one
/// key into one, so there they are a floor).
/// </summary>
internal sealed class BeatsBench : IScenario
{
    private static readonly string[] Trees = [StoreLayout.Workers, StoreLayout.Assignments, StoreLayout.Jobs, StoreLayout.Suspects];

    public string Name => "beats";

    public string Summary => "store writes/s that running jobs cost: per-attempt heartbeats against workerHeartbeat (--backend zookeeper|etcd --agents 4 --jobs 1000 --seconds 30)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var agents = options.Int("agents", 4);
        var jobs = options.Int("jobs", 1000);
        var seconds = options.Int("seconds", 30);
        string[][] modes =
        [
            ["heartbeat (before)", "env", "timeout", "workingDirectory", "cancel", Protocol.Features.Heartbeat],
            ["workerHeartbeat (after)"],
        ];
        var rows = new List<IReadOnlyList<string>>();
        var failed = false;
        foreach (var mode in modes)
        {
            var features = mode.Skip(1).Select((f, i) => $"--Agent:Features:{i}={f}").ToList();
            var result = await MeasureAsync(backend, agents, jobs, TimeSpan.FromSeconds(seconds), features, cancellationToken).ConfigureAwait(false);
            failed |= result.Running < jobs;
            BenchReport.Json(new
            {
                scenario = "beats", backend, mode = mode[0], agents, jobs, running = result.Running, seconds,
                transactionsPerSecond = BenchReport.Round(result.Transactions / result.Seconds),
                keyWritesPerSecond = result.Writes.ToDictionary(w => w.Key, w => BenchReport.Round(w.Value.Count / result.Seconds)),
                kibPerSecond = result.Writes.ToDictionary(w => w.Key, w => BenchReport.Round(w.Value.Bytes / 1024.0 / result.Seconds)),
                loadAverage = result.Load,
            });
            var total = result.Writes.Values.Sum(w => w.Count);
            rows.Add([backend, mode[0], $"{result.Running}/{jobs}", BenchReport.Cell(result.Transactions / result.Seconds),
                string.Join(" / ", Trees.Select(t => BenchReport.Cell(result.Writes[t].Count / result.Seconds))),
                BenchReport.Cell(result.Writes.Values.Sum(w => w.Bytes) / 1024.0 / result.Seconds),
                BenchReport.Cell(total / result.Seconds), BenchReport.Cell(result.Load)]);
        }

        BenchReport.Table(["backend", "agents beat with", "running", "write txns/s", "key writes/s workers / assignments / jobs / suspects", "KiB/s written", "key writes/s", "load"], rows);
        return failed ? 1 : 0;
    }

    private static async Task<Measurement> MeasureAsync(
        string backend, int agents, int jobs, TimeSpan window, List<string> agentArguments, CancellationToken cancellationToken)
    {
        var slots = (jobs + agents - 1) / agents;
        await using var cluster = await BenchCluster.StartAsync(backend, 1, 0, slots, TimeSpan.FromSeconds(10), cancellationToken: cancellationToken).ConfigureAwait(false);
        cluster.Agents.AddRange(await Task.WhenAll(Enumerable.Range(1, agents).Select(i => cluster.Apps.StartAgentAsync(
            cluster.Target, $"agent-{i}", slots, ["--Logging:LogLevel:Default=Warning", .. agentArguments]))).ConfigureAwait(false));
        await cluster.WaitForWorkersAsync(agents).ConfigureAwait(false);

        var client = cluster.Directors[0].Client;
        var sleep = JsonDocument.Parse("""{"seconds":3600}""").RootElement;
        await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (_, ct) =>
            await client.SubmitAsync(new JobSpec { Executor = "sleep", Args = sleep }, cancellationToken: ct).ConfigureAwait(false)).ConfigureAwait(false);

        // Every job Running (bounded: 3 minutes), then the window.
        var running = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(180 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && running < jobs)
        {
            // Not a retry: the pace of the bounded poll for every job to run.
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            running = (await client.AllJobsAsync(cancellationToken).ConfigureAwait(false)).Count(j => j.State == JobState.Running);
        }

        await using var store = await RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        var first = (await store.ListAsync(StoreLayout.Workers, new ListOptions(1), cancellationToken).ConfigureAwait(false)).Revision;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writes = Trees.ToDictionary(t => t, _ => new Tally(), StringComparer.Ordinal);
        var watches = Trees.Select(t => CountAsync(store, t, first, writes[t], stop.Token)).ToList();
        var load = BenchReport.LoadAverage();
        var clock = Stopwatch.StartNew();
        // Not a retry: the measured window itself.
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        var last = (await store.ListAsync(StoreLayout.Workers, new ListOptions(1), cancellationToken).ConfigureAwait(false)).Revision;
        var elapsed = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(watches).ConfigureAwait(false);
        return new Measurement(running, last - first, elapsed, writes.ToDictionary(w => w.Key, w => (w.Value.Count, w.Value.Bytes), StringComparer.Ordinal), load);
    }

    private static async Task CountAsync(ICoordinationStore store, string tree, long after, Tally tally, CancellationToken stop)
    {
        try
        {
            await foreach (var update in store.WatchAsync(tree, after, stop).ConfigureAwait(false))
            {
                // A resync (ZooKeeper starts with one) is the state, not writes.
                if (update is WatchChanges changes)
                {
                    foreach (var change in changes.Changes)
                    {
                        tally.Count++;
                        tally.Bytes += change.Item?.Value.Length ?? 0;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private sealed class Tally
    {
        public long Count { get; set; }

        public long Bytes { get; set; }
    }

    private sealed record Measurement(int Running, long Transactions, double Seconds, Dictionary<string, (long Count, long Bytes)> Writes, double Load);
}
