using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>The first part of the waiting scenario: what N Waiting jobs cost the leader while they wait, and their release.</summary>
internal sealed partial class WaitingBench
{
    /// <summary>What the leader did over one window of the churn.</summary>
    private sealed record Window(
        string Name, double Seconds, long Passes, double? P50Ms, double? P99Ms, double MeanMs, double JudgedPerPass, double LeaderCores, long Finished,
        double StoreP50Ms, double StoreP99Ms, double Load);

    /// <summary>The release of the N Waiting jobs once their blocker ended.</summary>
    private sealed record Release(
        int Jobs, double? FirstSeconds, double? AllSeconds, double? CountsSeconds, long Passes, double? P99Ms, double? MaxBoundMs, double LeaderCpuSeconds, double Load);

    private async Task<bool> IdleAndReleaseAsync(Settings s, CancellationToken cancellationToken)
    {
        await using var cluster = await BenchCluster.StartAsync(s.Backend, s.Directors, 0, 1, s.SessionTimeout, DirectorArgs, cancellationToken).ConfigureAwait(false);
        var leader = await LeaderAsync(cluster, cancellationToken).ConfigureAwait(false);
        await using var simulated = new SimulatedAgents();
        await simulated.RegisterAsync(cluster.Target, "churn", s.Workers, s.Workers, 1, cancellationToken, s.Slots, ChurnPool).ConfigureAwait(false);
        await cluster.WaitForWorkersAsync(s.Workers).ConfigureAwait(false);
        await using var agents = await InstantAgents.StartAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken))).ConfigureAwait(false);
        try
        {
            // The blocker: Pending for good (no worker matches it), so every Waiting job waits for it, in every window.
            var blocker = await leader.Client.SubmitAsync(Spec(Nowhere), cancellationToken: cancellationToken).ConfigureAwait(false);
            using var stopChurn = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var latencies = new ConcurrentQueue<double>();
            var churn = ChurnAsync(stores, s.ChurnRate, latencies, stopChurn.Token, cancellationToken);
            // Not a retry: the churn's warm-up before the first window.
            await Task.Delay(TimeSpan.FromSeconds(s.WarmupSeconds), cancellationToken).ConfigureAwait(false);

            var windows = new List<Window>
            {
                await WindowAsync("without", leader, agents, latencies, s.WindowSeconds, cancellationToken).ConfigureAwait(false),
                await WindowAsync("without (again)", leader, agents, latencies, s.WindowSeconds, cancellationToken).ConfigureAwait(false),
            };
            var rssWithout = BenchReport.RssMb(leader.Process.ProcessId);

            var writing = Stopwatch.GetTimestamp();
            var writeSeconds = await WriteWaitingAsync(stores, blocker.Id, s.Waiting, s.WriteRate, cancellationToken).ConfigureAwait(false);
            // Held by the leader: its published counts show them all Waiting (bounded; the counts lag a pass and ≤ 1 s).
            var held = await PollAsync(
                async () => (await CountsAsync(leader, cancellationToken).ConfigureAwait(false))?.GetValueOrDefault(nameof(JobState.Waiting)) >= s.Waiting,
                TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(3), cancellationToken).ConfigureAwait(false);
            var heldSeconds = held is null ? (double?)null : Stopwatch.GetElapsedTime(writing).TotalSeconds;
            BenchReport.Json(new
            {
                scenario = "waiting", phase = "written", backend = s.Backend, waiting = s.Waiting, writeRate = s.WriteRate, writeSeconds = Math.Round(writeSeconds, 1),
                heldByLeaderSeconds = BenchReport.Round(heldSeconds ?? double.NaN), directorWarnings = DirectorWarnings(leader),
            });
            if (held is null)
            {
                // The rest would measure a leader that does not hold the jobs: stop here, with what its log says.
                await stopChurn.CancelAsync().ConfigureAwait(false);
                await churn.ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"The leader did not hold the {s.Waiting} Waiting jobs within 3 min; its log: {leader.Process.LogPath}\n{leader.Process.LogTail(20)}")
                    .ConfigureAwait(false);
                return false;
            }

            // The burst of their arrival is not the window's: let it settle.
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            windows.Add(await WindowAsync("with", leader, agents, latencies, s.WindowSeconds, cancellationToken).ConfigureAwait(false));
            var rssWith = BenchReport.RssMb(leader.Process.ProcessId);

            await stopChurn.CancelAsync().ConfigureAwait(false);
            await churn.ConfigureAwait(false);
            // Not a retry: lets the churn's last jobs settle before the next window.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            var release = await ReleaseAsync(leader, blocker.Id, s.Waiting, cancellationToken).ConfigureAwait(false);
            var warnings = DirectorWarnings(leader);
            ReportIdle(s, windows, writeSeconds, heldSeconds, rssWithout, rssWith, release, agents.Failed, warnings);
            return release.CountsSeconds is not null && agents.Failed == 0 && warnings.Values.All(v => v == 0);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Until <paramref name="stop"/>, submits about <paramref name="perSecond"/> ordinary jobs a second for the
    /// churn's workers (the API's record and write, one transaction a job), which the simulated agents finish at once.
    /// A tick's writes complete under <paramref name="cancellationToken"/> (stopping does not cut one short). Each
    /// write's latency (ms) goes to <paramref name="latencies"/>: the store's answer time beside the leader's passes,
    /// whose durations include their own commits.</summary>
    private static async Task ChurnAsync(
        IReadOnlyList<ICoordinationStore> stores, int perSecond, ConcurrentQueue<double> latencies, CancellationToken stop, CancellationToken cancellationToken)
    {
        var spec = JobSpecValidator.Normalize(Spec(ChurnPool));
        var perTick = Math.Max(1, perSecond / 10);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                await Task.WhenAll(Enumerable.Range(0, perTick).Select(async i =>
                {
                    var job = new JobRecord { Id = JobIds.New(), Spec = spec, State = JobState.Pending, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };
                    var t = Stopwatch.GetTimestamp();
                    await stores[i % stores.Count].CommitAsync(new Transaction().Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job)), cancellationToken).ConfigureAwait(false);
                    latencies.Enqueue(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                })).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> Waiting jobs depending on <paramref name="blocker"/> <c>on: completion</c>, 32 per
    /// transaction, at most <paramref name="perSecond"/> a second (0: as fast as 16 transactions in flight go): the record
    /// <c>JobTransitions.Submitted</c> makes for a job with <c>dependsOn</c> and no key (Waiting, attempt 1, no
    /// <c>notBefore</c>). The API would also read the dependency first (it exists). The jobs require a label no worker
    /// has, so once released they stay Pending: the release is what is measured, not their placement.
    /// </summary>
    private static async Task<double> WriteWaitingAsync(IReadOnlyList<ICoordinationStore> stores, string blocker, int count, int perSecond, CancellationToken cancellationToken)
    {
        var spec = JobSpecValidator.Normalize(Spec(Nowhere, [new JobDependency { Job = blocker, On = DependencyCondition.Completion }]));
        const int PerTransaction = 32;
        async Task WriteAsync(int from, int to, CancellationToken ct)
        {
            var transaction = new Transaction();
            for (var i = from; i < to; i++)
            {
                var job = new JobRecord { Id = JobIds.New(), Spec = spec, State = JobState.Waiting, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };
                transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
            }

            if (!(await stores[from / PerTransaction % stores.Count].CommitAsync(transaction, ct).ConfigureAwait(false)).Succeeded)
            {
                throw new InvalidOperationException("The store refused a batch of new jobs.");
            }
        }

        var started = Stopwatch.GetTimestamp();
        var batches = (count + PerTransaction - 1) / PerTransaction;
        if (perSecond <= 0)
        {
            await Parallel.ForAsync(0, batches, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (b, ct) =>
                await WriteAsync(b * PerTransaction, Math.Min(count, (b + 1) * PerTransaction), ct).ConfigureAwait(false)).ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(started).TotalSeconds;
        }

        // A tenth of the rate every 100 ms; a tick whose writes take longer delays the next (the timer skips, never piles up).
        var perTick = Math.Max(1, perSecond / 10);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        for (var written = 0; written < count && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);)
        {
            var (from, end) = (written, Math.Min(count, written + perTick));
            await Task.WhenAll(Enumerable.Range(0, (end - from + PerTransaction - 1) / PerTransaction)
                .Select(b => WriteAsync(from + (b * PerTransaction), Math.Min(end, from + ((b + 1) * PerTransaction)), cancellationToken))).ConfigureAwait(false);
            written = end;
        }

        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Warnings in the leader's log that say it did not keep up: a watch that overflowed and restarted (a
    /// re-read of its whole subtree), and leadership given up for want of the store's answers. When there are any, the
    /// first lines go to stderr (the log itself goes with the cluster).</summary>
    internal static Dictionary<string, int> DirectorWarnings(DirectorProcess leader)
    {
        string[] kinds = ["ended: its reader fell behind", "restarts:", "Stopped leading"];
        var lines = leader.Process.LogTail(int.MaxValue).Split('\n').Where(l => kinds.Any(k => l.Contains(k, StringComparison.Ordinal))).ToList();
        foreach (var line in lines.Take(30))
        {
            Console.Error.WriteLine(line.Length > 300 ? line[..300] : line);
        }

        return new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["watchOverflows"] = lines.Count(l => l.Contains(kinds[0], StringComparison.Ordinal)),
            ["watchRestarts"] = lines.Count(l => l.Contains(kinds[1], StringComparison.Ordinal)),
            ["leadershipLost"] = lines.Count(l => l.Contains(kinds[2], StringComparison.Ordinal)),
        };
    }

    /// <summary>The leader's passes and CPU over <paramref name="seconds"/> of the churn.</summary>
    private static async Task<Window> WindowAsync(
        string name, DirectorProcess leader, InstantAgents agents, ConcurrentQueue<double> latencies, int seconds, CancellationToken cancellationToken)
    {
        latencies.Clear();
        var buckets = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
        var sums = await DirectorMetricsScrape.ScrapeAsync(leader, "controlplane_scheduler_pass", cancellationToken).ConfigureAwait(false);
        var cpu = BenchReport.CpuSeconds(leader.Process.ProcessId);
        var finished = agents.Finished;
        var clock = Stopwatch.StartNew();
        // Not a retry: the measured window itself.
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        var bucketsAfter = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
        var sumsAfter = await DirectorMetricsScrape.ScrapeAsync(leader, "controlplane_scheduler_pass", cancellationToken).ConfigureAwait(false);
        var elapsed = clock.Elapsed.TotalSeconds;
        var (store50, _, store99, _) = Percentiles.Of([.. latencies]);
        var cores = (BenchReport.CpuSeconds(leader.Process.ProcessId) - cpu) / elapsed;
        // Sums and counts of the two histograms: pass duration (s) and items judged per pass.
        double Delta(string part, string suffix) =>
            sumsAfter.Where(m => m.Key.Contains(part, StringComparison.Ordinal) && m.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(m => m.Value)
            - sums.Where(m => m.Key.Contains(part, StringComparison.Ordinal) && m.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(m => m.Value);
        var (p50, _) = DirectorMetricsScrape.Quantile(buckets, bucketsAfter, 0.5);
        var (p99, passes) = DirectorMetricsScrape.Quantile(buckets, bucketsAfter, 0.99);
        var durationCount = Delta("pass_duration", "_count");
        var judgedCount = Delta("pass_evaluated", "_count");
        var window = new Window(
            name, elapsed, passes, p50, p99, durationCount > 0 ? Delta("pass_duration", "_sum") * 1000 / durationCount : double.NaN,
            judgedCount > 0 ? Delta("pass_evaluated", "_sum") / judgedCount : double.NaN, cores, agents.Finished - finished,
            store50, store99, BenchReport.LoadAverage());
        BenchReport.Json(new
        {
            scenario = "waiting", phase = "window", window = name, seconds = Math.Round(elapsed, 1), passes, passP50Ms = p50, passP99Ms = p99,
            passMeanMs = BenchReport.Round(window.MeanMs, 2), judgedPerPass = BenchReport.Round(window.JudgedPerPass, 1),
            leaderCores = BenchReport.Round(cores, 3), finished = window.Finished,
            storeWriteP50Ms = BenchReport.Round(store50, 2), storeWriteP99Ms = BenchReport.Round(store99, 2), loadAverage = window.Load,
        });
        return window;
    }

    /// <summary>
    /// Cancels the blocker through the API and measures, polling every 100 ms for at most 5 min: the first committed
    /// release (the leader's <c>writes{kind="release"}</c> counter), the last (the counter at <paramref name="count"/>;
    /// a commit whose outcome the store left unknown is not counted, so it may never get there), and the leader's
    /// published counts showing no job Waiting (published at most once a second), which ends the wait.
    /// </summary>
    private static async Task<Release> ReleaseAsync(DirectorProcess leader, string blocker, int count, CancellationToken cancellationToken)
    {
        async Task<double> Releases() =>
            (await DirectorMetricsScrape.ScrapeAsync(leader, "kind=\"release\"", cancellationToken).ConfigureAwait(false)).GetValueOrDefault("controlplane_scheduler_writes_total");
        var before = await Releases().ConfigureAwait(false);
        var buckets = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
        var cpu = BenchReport.CpuSeconds(leader.Process.ProcessId);
        var started = Stopwatch.GetTimestamp();
        if (await leader.Client.CancelAsync(blocker, cancellationToken).ConfigureAwait(false) is not HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"Cancelling the blocker {blocker} failed.");
        }

        double? first = null;
        double? all = null;
        double? cpuSeconds = null;
        var counted = await PollAsync(
            async () =>
            {
                var released = await Releases().ConfigureAwait(false) - before;
                var now = Stopwatch.GetElapsedTime(started).TotalSeconds;
                first ??= released > 0 ? now : null;
                if (all is null && released >= count)
                {
                    all = now;
                    cpuSeconds = BenchReport.CpuSeconds(leader.Process.ProcessId) - cpu;
                }

                // A director that is not leading answers 503 here (no counts); so does one that has not published yet.
                return (await CountsAsync(leader, cancellationToken).ConfigureAwait(false))?.GetValueOrDefault(nameof(JobState.Waiting), -1) == 0;
            },
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        var countsSeconds = counted is null ? (double?)null : Stopwatch.GetElapsedTime(started).TotalSeconds;
        cpuSeconds ??= BenchReport.CpuSeconds(leader.Process.ProcessId) - cpu;
        var bucketsAfter = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
        var (p99, passes) = DirectorMetricsScrape.Quantile(buckets, bucketsAfter, 0.99);
        var (max, _) = DirectorMetricsScrape.Quantile(buckets, bucketsAfter, 1.0);
        return new Release(count, first, all, countsSeconds, passes, p99, max, cpuSeconds.Value, BenchReport.LoadAverage());
    }
}
