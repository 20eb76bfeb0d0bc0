using System.Diagnostics;
using System.Globalization;
using ControlPlane.IntegrationTests.EndToEnd;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The chaos suite (docs/chaos.md): a 3-member store, 3 directors and 4 agents as processes in three cells (the
/// agents spread over them, jobs named to a cell or routed, leadership spread over the directors); jobs submitted while
/// leaders, agents and store members are killed with -9 and processes lose their store links; then, healed, every
/// accepted job must have ended as designed, no two executions of a job overlapped, no deposed leader's write was
/// accepted, and no valid request got a 5xx outside the store-fault windows. Bounded by <c>CP_CHAOS_SECONDS</c>;
/// a seed (<c>CP_CHAOS_SEED</c>, printed) replays the decisions. One subclass per backend; the collection runs alone.
/// </summary>
public abstract class ChaosTests(ITestOutputHelper output)
{

    // The 503 window after a store fault is repaired: sessions and connections take up to a session timeout to
    // recover, and a request that was waiting on the store then gives up after the store request timeout (5 s).
    private static readonly TimeSpan Grace = ChaosSettings.SessionTimeout + TimeSpan.FromSeconds(5);

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    [Fact]
    public async Task Under_random_kills_and_partitions_no_job_is_lost_or_doubled_and_fencing_holds()
    {
        var settings = ChaosSettings.FromEnvironment();
        var replay = settings.ReplayCommand(GetType().Name.Replace("ChaosTests", "", StringComparison.Ordinal));
        Say($"chaos on {Backend.Name}: seed {settings.Seed}, {settings.Duration.TotalSeconds:0} s, {settings.Jobs} jobs. Replay: {replay}");
        var clock = Stopwatch.StartNew();
        await using var cluster = await ChaosCluster.StartAsync(Backend, ChaosCluster.ThreeCells);
        Say($"cluster up in {clock.Elapsed.TotalSeconds:0} s; cells: {await DescribeCellsAsync(cluster)}");

        var runId = settings.Seed.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..4];
        using var recorder = new ChaosRecorder(cluster, JobPlan.Draw(new Random(settings.Seed), settings.Jobs, runId, cluster.Cells), settings.Seed);
        var timeline = recorder.Timeline;
        var monkey = new ChaosMonkey(cluster, timeline, new Random(settings.Seed ^ 0x5eed), Say);
        var schedules = new ChaosSchedules(cluster, runId);
        await schedules.CreateAsync();

        var chaosStart = clock.Elapsed;
        await Task.WhenAll(monkey.RunAsync(settings.Duration), recorder.Workload.RunAsync(settings.Duration));
        Say($"chaos over after {(clock.Elapsed - chaosStart).TotalSeconds:0} s: {timeline.Faults.Count} faults, {recorder.Workload.Accepted.Count} jobs accepted");

        // Healed: every fault is repaired; wait for the whole cluster, then for every accepted job to end.
        await cluster.WaitUntilWholeAsync(TimeSpan.FromSeconds(90));
        Say($"whole again; cells: {await DescribeCellsAsync(cluster)}");
        var drainStart = clock.Elapsed;
        try
        {
            // Jobs end within seconds of the repairs (retries back off at most 4 s); the deadline is generous but keeps
            // a failing short run well inside test.sh's 5-minute hang limit.
            await recorder.UntilEveryAcceptedJobEndedAsync(TimeSpan.FromSeconds(60) + (settings.Duration / 2));
        }
        catch (TimeoutException e)
        {
            // The checks below report what did not end; carry on to show everything else too.
            Say($"drain deadline passed: {e.Message}");
        }

        Say($"drained in {(clock.Elapsed - drainStart).TotalSeconds:0} s");
        var checks = await recorder.StopAndCheckAsync(Grace);
        var (scheduleViolations, ticks) = await schedules.CheckAsync();
        checks.Report.Append($"[5] schedules: {ChaosSchedules.Count} one-second schedules, {ticks} ticks, {scheduleViolations.Count} without exactly one job\n");
        checks.Violations.AddRange(scheduleViolations);
        // A watcher that died early leaves a check with nothing to look at: that is a failure, not a pass.
        foreach (var (what, task) in new[] { ("store audit", recorder.Auditing), ("job observer", recorder.Watching) })
        {
            if (task.Exception?.GetBaseException() is { } error)
            {
                checks.Violations.Add($"[3] the {what} stopped: {error.GetType().Name}: {error.Message}");
            }
        }

        var faults = string.Join(", ", timeline.Faults.GroupBy(f => f.Kind).Select(g => $"{g.Key} {g.Count()}"));
        var report = $"Chaos on {Backend.Name} with cells {string.Join(", ", cluster.Cells)}, seed {settings.Seed}: {settings.Duration.TotalSeconds:0} s of faults ({faults}), " +
                     $"{settings.Jobs} jobs, {clock.Elapsed.TotalSeconds:0} s in all.\n{checks.Report}Fault timeline:\n{timeline.Describe()}";
        Say(report);
        var logs = checks.Violations.Count == 0 ? cluster.Apps.Directory : KeepLogs(cluster.Apps.Directory, settings.Seed);
        Assert.True(checks.Violations.Count == 0,
            $"{checks.Violations.Count} violations:\n{string.Join('\n', checks.Violations)}\n\n{report}\nReplay: {replay}\nLogs: {logs}");
    }

    /// <summary>Copies every process log and execution log out of the fixture directory, which is deleted when the
    /// cluster is disposed, so a failure can be read afterwards. Returns where they went.</summary>
    private string KeepLogs(string directory, int seed)
    {
        var kept = Path.Combine(Path.GetTempPath(), $"chaos-logs-{Backend.Name}-{seed}-{DateTime.UtcNow:HHmmss}");
        Directory.CreateDirectory(kept);
        foreach (var file in Directory.EnumerateFiles(directory).Where(f => f.EndsWith(".log", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal)))
        {
            // The processes still run and write: read the way AppProcess.LogTail does, sharing the file.
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = File.Create(Path.Combine(kept, Path.GetFileName(file)));
            source.CopyTo(copy);
        }

        return kept;
    }

    /// <summary>Each cell with its leader, epoch and workers, for the log.</summary>
    private static async Task<string> DescribeCellsAsync(ChaosCluster cluster) =>
        string.Join(", ", (await cluster.CellsAsync()).Select(c => $"{c.Cell}: {c.Leader ?? "no leader"} (epoch {c.Epoch}, {c.Workers} workers)"));

    private void Say(string line)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has ended (a late repair's log line): nobody reads it.
        }
    }
}

/// <summary>Chaos on ZooKeeper.</summary>
[Collection(ChaosCollection.Name)]
public sealed class ZooKeeperChaosTests(ITestOutputHelper output) : ChaosTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>Chaos on etcd.</summary>
[Collection(ChaosCollection.Name)]
public sealed class EtcdChaosTests(ITestOutputHelper output) : ChaosTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}

/// <summary>The chaos runs start a store and seven .NET processes each: they run one after the other, beside the
/// other collections (their checks are properties of the histories, not timings).</summary>
[CollectionDefinition(Name)]
public sealed class ChaosCollection
{
    /// <summary>Collection name.</summary>
    public const string Name = "chaos";
}
