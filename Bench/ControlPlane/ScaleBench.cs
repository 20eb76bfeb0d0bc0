using System.Diagnostics;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The directors with thousands of registered agents: A simulated agents (<see cref="SimulatedAgents"/>, real
/// ephemeral registrations on real store sessions, no processes) against N real directors. Measures the leader's
/// RSS before and after, the registration itself, <c>GET /v1/workers</c> on the leader and on a follower, and in R
/// rounds the leader's reaction to a membership change: a probe agent joins and the job pinned to its label
/// (waiting, unplaceable) is assigned to it (join → assignedAt); a second probe with the same label joins, the first
/// one's session is closed, and the job is taken back (attempt 2 seen, polled every 20 ms) and assigned to the second
/// (leave → attempt 2's assignedAt, which includes the 1 s retry backoff).
/// <c>scale --backend zookeeper|etcd --directors 3 --agents 2000 --agents-per-session 1 --rounds 5</c>. With
/// <c>--cells 1,2,4</c> it measures jobs/s end to end for each cell count instead (ScaleBench.Cells.cs).
/// </summary>
/// <remarks>Raw HTTP (TestSupport's DirectorClient) on purpose, not ControlPlane.Client: it measures the API under load, which
/// the client's retries of 429 and 503 would hide.</remarks>
internal sealed partial class ScaleBench : IScenario
{
    public string Name => "scale";

    public string Summary => "thousands of registered (simulated) agents: leader reaction to join/leave, leader RSS, GET /v1/workers (--backend zookeeper|etcd --agents 2000 --rounds 5); " +
        "with --cells 1,2,4: jobs/s end to end per cell count on one store (--agents 2000 --jobs 20000)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        if (options.String("cells") is { } cellCounts)
        {
            // Jobs/s end to end with 1, 2, 4 … cells on one store (ScaleBench.Cells.cs); the probes are not run.
            return await RunCellsAsync(options, cellCounts, cancellationToken).ConfigureAwait(false);
        }

        var backend = options.String("backend") ?? "zookeeper";
        var directors = options.Int("directors", 3);
        var agents = options.Int("agents", 2000);
        var perSession = options.Int("agents-per-session", 1);
        var rounds = options.Int("rounds", 5);
        var listRequests = options.Int("list-requests", 10);
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        var jobs = options.Int("jobs", 0);
        var workerSlots = options.Int("worker-slots", 4);
        var churnRate = options.Int("churn-rate", 500);
        var churnSeconds = options.Int("churn-seconds", 20);
        // Simulated agents never start what they are given: with jobs to place, the leader must not take them back.
        string[] directorArgs = jobs > 0 ? ["--Scheduler:StartTimeout=1.00:00:00"] : [];
        await using var cluster = await BenchCluster.StartAsync(backend, directors, 0, 1, sessionTimeout, directorArgs, cancellationToken).ConfigureAwait(false);
        var load = BenchReport.LoadAverage();
        var leaderView = await cluster.Directors[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("no leader");
        var leader = cluster.Directors.Single(d => d.Process.Name == leaderView.DirectorId);
        var follower = cluster.Directors.FirstOrDefault(d => d != leader) ?? leader;
        // Not a retry: let start-up garbage settle before the baseline.
        await Task.Delay(2000, cancellationToken).ConfigureAwait(false);
        var rssBefore = BenchReport.RssMb(leader.Process.ProcessId);
        var followerRssBefore = BenchReport.RssMb(follower.Process.ProcessId);

        await using var simulated = new SimulatedAgents();
        var registering = Stopwatch.GetTimestamp();
        await simulated.RegisterAsync(cluster.Target, "sim", agents, perSession, 64, cancellationToken, workerSlots, Pool).ConfigureAwait(false);
        var registerSeconds = Stopwatch.GetElapsedTime(registering).TotalSeconds;
        await cluster.WaitForWorkersAsync(agents).ConfigureAwait(false);

        var (leaderList, bytes) = await TimeWorkerListAsync(leader, listRequests, cancellationToken).ConfigureAwait(false);
        var (followerList, _) = await TimeWorkerListAsync(follower, listRequests, cancellationToken).ConfigureAwait(false);
        // Not a retry: lets the listings' garbage settle before the next measure.
        await Task.Delay(2000, cancellationToken).ConfigureAwait(false);
        var rssRegistered = BenchReport.RssMb(leader.Process.ProcessId);

        LoadFigures? loaded = null;
        SortedDictionary<double, double>? beforeProbes = null;
        if (jobs > 0)
        {
            var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken))).ConfigureAwait(false);
            try
            {
                var start = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
                var placedBefore = await PlacementsAsync(leader, cancellationToken).ConfigureAwait(false);
                var submitSeconds = await SubmitBulkAsync(stores, jobs, cancellationToken).ConfigureAwait(false);
                var placeSeconds = await WaitForPlacementAsync(
                    leader, placedBefore, Math.Min(jobs, agents * workerSlots), TimeSpan.FromMinutes(15), cancellationToken).ConfigureAwait(false);
                var placed = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
                var churnStarted = Stopwatch.GetTimestamp();
                var finished = await ChurnAsync(stores[0], churnRate, churnSeconds, cancellationToken).ConfigureAwait(false);
                var churnTook = Stopwatch.GetElapsedTime(churnStarted).TotalSeconds;
                beforeProbes = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
                var (l50, _) = DirectorMetricsScrape.Quantile(start, placed, 0.5);
                var (l99, loadingPasses) = DirectorMetricsScrape.Quantile(start, placed, 0.99);
                var (c50, _) = DirectorMetricsScrape.Quantile(placed, beforeProbes, 0.5);
                var (c99, churnPasses) = DirectorMetricsScrape.Quantile(placed, beforeProbes, 0.99);
                loaded = new LoadFigures(jobs, submitSeconds, placeSeconds, finished, churnTook, l50, l99, loadingPasses, c50, c99, churnPasses, null);
                BenchReport.Json(new { scenario = "scale", phase = "load", jobs, submitSeconds = Math.Round(submitSeconds, 1), placeSeconds = Math.Round(placeSeconds, 1), finished, loadingPassP99Ms = l99, churnPassP99Ms = c99 });
            }
            finally
            {
                foreach (var store in stores)
                {
                    await store.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        var reactions = new List<Reaction>();
        for (var round = 1; round <= rounds; round++)
        {
            reactions.Add(await ProbeAsync(cluster, leader.Client, round, cancellationToken).ConfigureAwait(false));
        }

        if (loaded is not null && beforeProbes is not null)
        {
            loaded = loaded with { ProbeP99 = DirectorMetricsScrape.Quantile(beforeProbes, await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false), 0.99).Bound };
        }

        var rssAfter = BenchReport.RssMb(leader.Process.ProcessId);
        var followerRssAfter = BenchReport.RssMb(follower.Process.ProcessId);
        var sessions = simulated.Sessions;
        var closing = Stopwatch.GetTimestamp();
        await simulated.DisposeAsync().ConfigureAwait(false);
        var closeSeconds = Stopwatch.GetElapsedTime(closing).TotalSeconds;

        Report(new Figures(backend, directors, agents, sessions, load, registerSeconds, closeSeconds, bytes, leaderList, followerList,
            rssBefore, rssRegistered, rssAfter, followerRssBefore, followerRssAfter, reactions, loaded));
        return reactions.All(r => r.JoinMs is not null && r.ReassignMs is not null) ? 0 : 1;
    }

    /// <summary><paramref name="count"/> sequential <c>GET /v1/workers</c>: latencies (ms) and the body size.</summary>
    private static async Task<(List<double> Latencies, long Bytes)> TimeWorkerListAsync(DirectorProcess director, int count, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            var t = Stopwatch.GetTimestamp();
            using var response = await director.Client.Http.GetAsync(new Uri("/v1/workers", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            bytes = (await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)).LongLength;
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        return (latencies, bytes);
    }
}
