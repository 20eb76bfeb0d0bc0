using System.Diagnostics;
using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The chaos suite (docs/chaos.md): a 3-member store, 3 directors and 4 agents as processes; jobs submitted while
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
        await using var cluster = await ChaosCluster.StartAsync(Backend);
        Say($"cluster up in {clock.Elapsed.TotalSeconds:0} s");

        var timeline = new FaultTimeline();
        var requests = new RequestLog();
        var runId = settings.Seed.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..4];
        var plans = JobPlan.Draw(new Random(settings.Seed), settings.Jobs, runId);
        var workload = new ChaosWorkload(cluster, requests, plans, settings.Seed);
        var observer = new JobObserver(cluster, requests, settings.Seed);
        var audit = new StoreAudit(cluster.DirectTarget);
        using var observing = new CancellationTokenSource();
        var auditing = audit.RunAsync(observing.Token);
        var watching = observer.RunAsync(observing.Token);
        var monkey = new ChaosMonkey(cluster, timeline, new Random(settings.Seed ^ 0x5eed), Say);
        var schedules = new ChaosSchedules(cluster, runId);
        await schedules.CreateAsync();

        var chaosStart = clock.Elapsed;
        await Task.WhenAll(monkey.RunAsync(settings.Duration), workload.RunAsync(settings.Duration));
        Say($"chaos over after {(clock.Elapsed - chaosStart).TotalSeconds:0} s: {timeline.Faults.Count} faults, {workload.Accepted.Count} jobs accepted");

        // Healed: every fault is repaired; wait for the whole cluster, then for every accepted job to end.
        await cluster.WaitUntilWholeAsync(TimeSpan.FromSeconds(90));
        var drainStart = clock.Elapsed;
        // Jobs end within seconds of the repairs (retries back off at most 4 s); the deadline is generous but keeps
        // a failing short run well inside test.sh's 5-minute hang limit.
        var drainDeadline = TimeSpan.FromSeconds(60) + (settings.Duration / 2);
        var accepted = workload.Accepted;
        var left = "nothing listed yet";
        try
        {
            await Eventually.UntilAsync(
                async () =>
                {
                    if (!await observer.ObserveOnceAsync())
                    {
                        return false;
                    }

                    var latest = observer.Latest;
                    var open = accepted.Where(a => latest.GetValueOrDefault(a.Id)?.State.IsTerminal() != true).ToList();
                    left = $"{open.Count} not ended: " + string.Join("; ", open.Take(10).Select(a => Describe(a, latest.GetValueOrDefault(a.Id))));
                    return open.Count == 0;
                },
                drainDeadline,
                () => left);
        }
        catch (TimeoutException e)
        {
            // The checks below report what did not end; carry on to show everything else too.
            Say($"drain deadline passed: {e.Message}");
        }

        Say($"drained in {(clock.Elapsed - drainStart).TotalSeconds:0} s");
        await observing.CancelAsync();
        await Task.WhenAll(watching, auditing).ContinueWith(_ => { }, TaskScheduler.Default);

        var evidence = new ChaosEvidence(
            accepted,
            workload.NeverAccepted,
            workload.Abandoned,
            observer.Latest,
            observer.Epochs,
            ExecutionLog.Read(cluster.Apps.ExecutionLogs),
            cluster.Apps.Processes.Where(p => p.KilledAt is not null).ToDictionary(p => p.ProcessId, p => p.KilledAt!.Value),
            audit,
            requests.Calls,
            [.. cluster.Apps.Processes.Where(p => p.Name.StartsWith("director-", StringComparison.Ordinal)).Select(p => p.LogTail(int.MaxValue))],
            timeline);
        var checks = new ChaosChecks(evidence, Grace);
        checks.RunAll();
        var (scheduleViolations, ticks) = await schedules.CheckAsync();
        checks.Report.Append($"[5] schedules: {ChaosSchedules.Count} one-second schedules, {ticks} ticks, {scheduleViolations.Count} without exactly one job\n");
        checks.Violations.AddRange(scheduleViolations);
        // A watcher that died early leaves a check with nothing to look at: that is a failure, not a pass.
        foreach (var (what, task) in new[] { ("store audit", auditing), ("job observer", watching) })
        {
            if (task.Exception?.GetBaseException() is { } error)
            {
                checks.Violations.Add($"[3] the {what} stopped: {error.GetType().Name}: {error.Message}");
            }
        }

        var faults = string.Join(", ", timeline.Faults.GroupBy(f => f.Kind).Select(g => $"{g.Key} {g.Count()}"));
        var report = $"Chaos on {Backend.Name}, seed {settings.Seed}: {settings.Duration.TotalSeconds:0} s of faults ({faults}), " +
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

    private static string Describe(AcceptedJob job, JobView? view) =>
        view is null ? $"{job.Id} not listed" : $"{job.Id} {view.State} attempt {view.Attempt} on {view.WorkerId ?? "-"}";

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
