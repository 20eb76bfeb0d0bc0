using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Concurrency keys (issue 19): what jobs behind a full key cost the leader's pass at scale.
/// <c>keys --backend zookeeper|etcd --workers 10000 --slots 6 --held 50000 --keyed 50000 --limit 10</c>. One director
/// (the leader), a single-member store, <c>--workers</c> simulated workers (<see cref="SimulatedAgents"/>, 100 a
/// session) and simulated agents (<see cref="InstantAgents"/>) that finish every attempt at once except those whose
/// args say <c>hold</c>, which run for ever. First <c>--limit</c> jobs of one concurrency key (limit <c>--limit</c>)
/// and <c>--held</c> ordinary jobs are written, all holding, and placed: the key is full and the leader holds
/// <c>--held</c> + <c>--limit</c> jobs out. Then a churn of ordinary jobs (<c>--churn-rate</c> a second, finished at
/// once) runs through three windows of <c>--window-seconds</c>: two before and one after <c>--keyed</c> more jobs of
/// the full key are written (Pending for good). Each window reports the leader's passes (p50/p99 from its histogram,
/// the mean), the items judged per pass and the leader's CPU; the two windows without are the noise floor. The
/// explain of one held job is read at the end (<c>concurrencyLimit</c>).
/// </summary>
internal sealed class KeysBench : IScenario
{
    private const string Key = "bench-key";

    public string Name => "keys";

    public string Summary => "concurrency keys: leader pass/CPU with 50,000 jobs behind a full key vs none, 10,000 workers, 100,000 jobs (--backend zookeeper|etcd --workers 10000 --held 50000 --keyed 50000)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var workers = options.Int("workers", 10_000);
        var slots = options.Int("slots", 6);
        var held = options.Int("held", 50_000);
        var keyed = options.Int("keyed", 50_000);
        var limit = options.Int("limit", 10);
        var writeRate = options.Int("write-rate", 2000);
        var churnRate = options.Int("churn-rate", 50);
        var windowSeconds = options.Int("window-seconds", 15);
        var warmupSeconds = options.Int("warmup-seconds", 15);
        if (held + limit >= workers * slots)
        {
            throw new ArgumentException("--held plus --limit must leave free slots (--workers × --slots) for the churn.");
        }

        // Simulated agents report Running and the result in one write (or never): no start timeout.
        await using var cluster = await BenchCluster.StartAsync(
            backend, 1, 0, 1, TimeSpan.FromSeconds(options.Int("session-timeout", 10)), ["--Scheduler:StartTimeout=1.00:00:00"], cancellationToken).ConfigureAwait(false);
        var leader = await WaitingBench.LeaderAsync(cluster, cancellationToken).ConfigureAwait(false);
        var rssBefore = BenchReport.RssMb(leader.Process.ProcessId);
        await using var simulated = new SimulatedAgents();
        await simulated.RegisterAsync(cluster.Target, "sim", workers, 100, 64, cancellationToken, slots, WaitingBench.ChurnPool).ConfigureAwait(false);
        await cluster.WaitForWorkersAsync(workers).ConfigureAwait(false);
        await using var agents = await InstantAgents.StartAsync(cluster.Target, cancellationToken, a => !Holds(a)).ConfigureAwait(false);
        var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken))).ConfigureAwait(false);
        try
        {
            // The key's holders first (so they are its oldest jobs and fill it), then the held ordinary jobs; all placed.
            var concurrency = new JobConcurrency { Key = Key, Limit = limit };
            var loading = Stopwatch.GetTimestamp();
            await WaitingBench.WriteJobsAsync(stores, limit, writeRate, () => Pending(Spec(hold: true, concurrency)), cancellationToken).ConfigureAwait(false);
            await WaitingBench.WriteJobsAsync(stores, held, writeRate, () => Pending(Spec(hold: true, null)), cancellationToken).ConfigureAwait(false);
            var placed = await WaitingBench.PollAsync(
                async () => (await WaitingBench.CountsAsync(leader, cancellationToken).ConfigureAwait(false))?.GetValueOrDefault(nameof(JobState.Assigned)) >= held + limit,
                TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
            var loadSeconds = Stopwatch.GetElapsedTime(loading).TotalSeconds;
            BenchReport.Json(new { scenario = "keys", phase = "loaded", backend, workers, slots, held, limit, loadSeconds = Math.Round(loadSeconds, 1), placed = placed is not null });
            if (placed is null)
            {
                await Console.Error.WriteLineAsync($"The leader did not place the {held + limit} held jobs within 10 min; its log: {leader.Process.LogPath}").ConfigureAwait(false);
                return 1;
            }

            using var stopChurn = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var latencies = new ConcurrentQueue<double>();
            var churn = WaitingBench.ChurnAsync(stores, churnRate, latencies, stopChurn.Token, cancellationToken);
            // Not a retry: the churn's warm-up before the first window.
            await Task.Delay(TimeSpan.FromSeconds(warmupSeconds), cancellationToken).ConfigureAwait(false);
            var windows = new List<WaitingBench.Window>
            {
                await WaitingBench.WindowAsync("without", leader, agents, latencies, windowSeconds, cancellationToken, "keys").ConfigureAwait(false),
                await WaitingBench.WindowAsync("without (again)", leader, agents, latencies, windowSeconds, cancellationToken, "keys").ConfigureAwait(false),
            };
            var rssWithout = BenchReport.RssMb(leader.Process.ProcessId);

            var writeSeconds = await WaitingBench.WriteJobsAsync(stores, keyed, writeRate, () => Pending(Spec(hold: false, concurrency)), cancellationToken).ConfigureAwait(false);
            var queued = await WaitingBench.PollAsync(
                async () => (await WaitingBench.CountsAsync(leader, cancellationToken).ConfigureAwait(false))?.GetValueOrDefault(nameof(JobState.Pending)) >= keyed,
                TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(3), cancellationToken).ConfigureAwait(false);
            if (queued is null)
            {
                await stopChurn.CancelAsync().ConfigureAwait(false);
                await churn.ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"The leader did not count the {keyed} keyed jobs within 3 min; its log: {leader.Process.LogPath}").ConfigureAwait(false);
                return 1;
            }

            // The burst of their arrival is not the window's: let it settle.
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            windows.Add(await WaitingBench.WindowAsync("with", leader, agents, latencies, windowSeconds, cancellationToken, "keys").ConfigureAwait(false));
            var rssWith = BenchReport.RssMb(leader.Process.ProcessId);
            await stopChurn.CancelAsync().ConfigureAwait(false);
            await churn.ConfigureAwait(false);

            var counts = await WaitingBench.CountsAsync(leader, cancellationToken).ConfigureAwait(false);
            var explained = await ExplainOneAsync(leader, cancellationToken).ConfigureAwait(false);
            var warnings = WaitingBench.DirectorWarnings(leader);
            Report(backend, workers, held, keyed, limit, loadSeconds, writeSeconds, windows, (rssBefore, rssWithout, rssWith), counts, explained, agents.Failed, warnings);
            return agents.Failed == 0 && warnings.Values.All(v => v == 0) && explained == ExplainCodes.ConcurrencyLimit ? 0 : 1;
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>An echo job for the churn's workers; a holding one runs for ever (the simulated agents leave it).</summary>
    private static JobSpec Spec(bool hold, JobConcurrency? concurrency) => JobSpecValidator.Normalize(new JobSpec
    {
        Executor = "echo",
        Args = JsonDocument.Parse(hold ? """{"hold":true}""" : "{}").RootElement,
        Constraints = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = WaitingBench.ChurnPool },
        Concurrency = concurrency,
    });

    /// <summary>The record the API writes for <paramref name="spec"/>.</summary>
    private static JobRecord Pending(JobSpec spec) =>
        new() { Id = JobIds.New(), Spec = spec, State = JobState.Pending, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };

    private static bool Holds(AssignmentRecord assignment) =>
        assignment.Args is { ValueKind: JsonValueKind.Object } args && args.TryGetProperty("hold", out _);

    /// <summary>The first reason code of one Pending job of the key, from the leader's API.</summary>
    private static async Task<string?> ExplainOneAsync(TestSupport.ControlPlane.DirectorProcess leader, CancellationToken cancellationToken)
    {
        var page = await leader.Client.ListJobsAsync(limit: 500, state: nameof(JobState.Pending), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (page.Items.FirstOrDefault(j => j.Spec.Concurrency is not null) is not { } job)
        {
            return null;
        }

        using var response = await leader.Client.Http.GetAsync(new Uri($"/v1/jobs/{job.Id}/explain", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var explanation = ContractJson.Deserialize<JobExplanation>(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
        await Console.Error.WriteLineAsync($"explain {job.Id}: {explanation.Summary}").ConfigureAwait(false);
        return explanation.Reasons.Count > 0 ? explanation.Reasons[0].Code : null;
    }

    private static void Report(
        string backend, int workers, int held, int keyed, int limit, double loadSeconds, double writeSeconds, List<WaitingBench.Window> windows,
        (double Before, double Without, double With) rss, IReadOnlyDictionary<string, int>? counts, string? explained, long reportsFailed, Dictionary<string, int> warnings)
    {
        var (noise, without, with) = (windows[0], windows[1], windows[2]);
        static double Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : double.NaN;
        BenchReport.Json(new
        {
            scenario = "keys", backend, workers, held, keyed, limit, loadSeconds = Math.Round(loadSeconds, 1), keyedWriteSeconds = Math.Round(writeSeconds, 1),
            passMeanRatio = BenchReport.Round(Ratio(with.MeanMs, without.MeanMs), 2), passMeanNoiseRatio = BenchReport.Round(Ratio(without.MeanMs, noise.MeanMs), 2),
            passP99Ratio = BenchReport.Round(Ratio(with.P99Ms, without.P99Ms), 2), judgedRatio = BenchReport.Round(Ratio(with.JudgedPerPass, without.JudgedPerPass), 2),
            leaderCpuRatio = BenchReport.Round(Ratio(with.LeaderCores, without.LeaderCores), 2), leaderCpuNoiseRatio = BenchReport.Round(Ratio(without.LeaderCores, noise.LeaderCores), 2),
            leaderRssMb = new { before = BenchReport.Round(rss.Before), without = BenchReport.Round(rss.Without), with = BenchReport.Round(rss.With) },
            counts, explained, reportsFailed, directorWarnings = warnings,
        });
        var c = CultureInfo.InvariantCulture;
        BenchReport.Table(
            ["backend", "window", "behind the full key", "passes", "pass p50 / p99 ms", "pass mean ms", "judged / pass", "leader CPU (cores)", "churn finished", "load"],
            windows.Select(w => (IReadOnlyList<string>)
            [
                backend, w.Name, w.Name == "with" ? keyed.ToString("N0", c) : "0", w.Passes.ToString("N0", c),
                $"≤{(w.P50Ms is { } p50 ? BenchReport.Cell(p50) : "-")} / ≤{(w.P99Ms is { } p99 ? BenchReport.Cell(p99) : "-")}",
                BenchReport.Cell(w.MeanMs, "0.00"), BenchReport.Cell(w.JudgedPerPass, "0.0"), BenchReport.Cell(w.LeaderCores, "0.000"),
                w.Finished.ToString("N0", c), BenchReport.Cell(w.Load),
            ]));
        BenchReport.Table(
            ["backend", "workers", "jobs held out", "loaded in s", "keyed written in s", "leader RSS MiB before / loaded / with", "explain"],
            [[backend, workers.ToString("N0", c), (held + limit).ToString("N0", c), BenchReport.Cell(loadSeconds), BenchReport.Cell(writeSeconds),
              $"{BenchReport.Cell(rss.Before, "0")} / {BenchReport.Cell(rss.Without, "0")} / {BenchReport.Cell(rss.With, "0")}", explained ?? "-"]]);
    }
}
