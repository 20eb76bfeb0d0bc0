using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Coordination;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// N schedules firing every second on one leader: <c>schedules --backend zookeeper|etcd --schedules 1000 --seconds 30</c>.
/// Fire lag is the time from a tick to its job being visible to a watcher of <c>jobs/</c> on the same machine (so it
/// includes the leader's pass, its commit and the watch's delivery). Also: the leader's CPU over the window (cores),
/// and exactly-once over the window: every (schedule, tick) of the window has one job, none missing, none twice.
/// "Judged" is the job's <c>createdAt</c> (the leader's clock when its pass judged the tick) less the tick: the part
/// of the lag before the commit. <c>--in-flight</c> sets <c>Scheduler:MaxCommitsInFlight</c> (default 4).
/// No agents: the jobs stay Pending (their placement is not what is measured).
/// </summary>
internal sealed class SchedulesBench : IScenario
{
    public string Name => "schedules";

    public string Summary => "1,000 one-second schedules: fire lag (tick -> job visible) p50/p99, leader CPU, exactly once (--backend zookeeper|etcd --schedules 1000 --seconds 30)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var count = options.Int("schedules", 1000);
        var seconds = options.Int("seconds", 30);
        var inFlight = options.Int("in-flight", 4);
        await using var cluster = await BenchCluster.StartAsync(
            backend, 1, 0, 1, TimeSpan.FromSeconds(10), [$"--Scheduler:MaxCommitsInFlight={inFlight}"], cancellationToken).ConfigureAwait(false);
        var director = cluster.Directors[0];
        var http = director.Client.Http;

        var ids = new ConcurrentBag<string>();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            using var response = await http.PostAsJsonAsync(
                "/v1/schedules",
                new { cron = "* * * * * *", catchUp = "all", job = new { executor = "shell", command = new[] { "/bin/true" } } },
                ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            ids.Add(ContractJson.Deserialize<ScheduleView>(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false)).Id);
        }).ConfigureAwait(false);

        // The watch starts before the warm-up (on ZooKeeper it begins with a resync that reads every job: started later,
        // that read would delay the first ticks it reports), then 5 s of warm-up, then the window: whole seconds
        // [from, to]; only ticks of the window count.
        await using var store = await RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        var after = (await store.ListAsync(StoreLayout.Jobs, new ListOptions(1), cancellationToken).ConfigureAwait(false)).Revision;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var seen = new ConcurrentDictionary<(string Schedule, DateTimeOffset Tick), int>();
        var lags = new ConcurrentDictionary<(string Schedule, DateTimeOffset Tick), (double Visible, double Judged)>();
        var watch = WatchAsync(store, after, seen, lags, stop.Token);
        // Not a retry: lets the watch and the schedules settle before the measured window.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        var from = WholeSecondAfter(DateTimeOffset.UtcNow.AddSeconds(1));
        var cpuBefore = BenchReport.CpuSeconds(director.Process.ProcessId);
        var clock = Stopwatch.StartNew();
        // Not a retry: the measured window itself.
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        var cpu = (BenchReport.CpuSeconds(director.Process.ProcessId) - cpuBefore) / clock.Elapsed.TotalSeconds;
        var load = BenchReport.LoadAverage();
        var to = WholeSecondAfter(DateTimeOffset.UtcNow).AddSeconds(-3);

        // Let the last ticks of the window land (bounded), then stop watching.
        var settle = Stopwatch.StartNew();
        var expected = ids.Count * (int)((to - from).TotalSeconds + 1);
        while (settle.Elapsed < TimeSpan.FromSeconds(30) && seen.Count(s => s.Key.Tick >= from && s.Key.Tick <= to) < expected)
        {
            // Not a retry: the pace of the bounded poll for the window's ticks to be seen.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await watch.ConfigureAwait(false);
        var inWindow = seen.Where(s => s.Key.Tick >= from && s.Key.Tick <= to).ToList();
        var twice = inWindow.Count(s => s.Value > 1);
        var missing = expected - inWindow.Count;
        var windowLags = lags.Where(l => l.Key.Tick >= from && l.Key.Tick <= to).Select(l => l.Value).ToList();
        var lag = Percentiles.Of([.. windowLags.Select(l => l.Visible)]);
        var plan = Percentiles.Of([.. windowLags.Select(l => l.Judged)]);
        BenchReport.Json(new
        {
            scenario = "schedules", backend, schedules = count, seconds, ticks = expected, jobs = inWindow.Sum(s => s.Value), missing, twice,
            inFlight, lagMsP50 = BenchReport.Round(lag.P50), lagMsP90 = BenchReport.Round(lag.P90), lagMsP99 = BenchReport.Round(lag.P99), lagMsMax = BenchReport.Round(lag.Max),
            plannedMsP50 = BenchReport.Round(plan.P50), plannedMsP99 = BenchReport.Round(plan.P99),
            leaderCores = BenchReport.Round(cpu, 2), loadAverage = load,
        });
        BenchReport.Table(
            ["backend", "schedules", "ticks in window", "jobs", "missing", "twice", "judged p50 / p99 ms", "fire lag p50 ms", "p99 ms", "max ms", "leader CPU (cores)", "load"],
            [[backend, count.ToString(System.Globalization.CultureInfo.InvariantCulture), expected.ToString(System.Globalization.CultureInfo.InvariantCulture),
              inWindow.Sum(s => s.Value).ToString(System.Globalization.CultureInfo.InvariantCulture), missing.ToString(System.Globalization.CultureInfo.InvariantCulture),
              twice.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{BenchReport.Cell(plan.P50)} / {BenchReport.Cell(plan.P99)}", BenchReport.Cell(lag.P50), BenchReport.Cell(lag.P99), BenchReport.Cell(lag.Max),
              BenchReport.Cell(cpu, "0.00"), BenchReport.Cell(load)]]);
        return missing == 0 && twice == 0 ? 0 : 1;
    }

    private static DateTimeOffset WholeSecondAfter(DateTimeOffset t) =>
        new DateTimeOffset(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);

    private static async Task WatchAsync(
        ICoordinationStore store, long after, ConcurrentDictionary<(string, DateTimeOffset), int> seen,
        ConcurrentDictionary<(string, DateTimeOffset), (double Visible, double Judged)> lags, CancellationToken stop)
    {
        try
        {
            await foreach (var update in store.WatchAsync(StoreLayout.Jobs, after, stop).ConfigureAwait(false))
            {
                if (update is not WatchChanges changes)
                {
                    continue;
                }

                var now = DateTimeOffset.UtcNow;
                foreach (var change in changes.Changes)
                {
                    // A job's creation: its first version (later versions are the leader's own updates, none here).
                    if (change.Item is not { Version: 1 } item)
                    {
                        continue;
                    }

                    var job = ContractJson.Deserialize<JobRecord>(item.Value.Span);
                    if (job is { ScheduleId: { } schedule, ScheduledFor: { } tick })
                    {
                        seen.AddOrUpdate((schedule, tick), 1, (_, n) => n + 1);
                        // Judged: the leader's clock when its pass judged the tick (the job's createdAt).
                        lags.TryAdd((schedule, tick), ((now - tick).TotalMilliseconds, (job.CreatedAt - tick).TotalMilliseconds));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
