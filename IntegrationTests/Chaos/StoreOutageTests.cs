using System.Diagnostics;
using System.Globalization;
using System.Net;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The whole store away, on the chaos suite's cluster (3 members, 3 directors, 4 agents as processes) and with its
/// checks: while jobs are submitted, every store member is killed with -9 for 30 s and started again with its data;
/// once the cluster is whole again, the members are restarted one after another (SIGTERM, start, serving) — a
/// rolling restart. No director or agent is restarted. Meanwhile every director answers 503 with
/// <c>Retry-After</c> (never another 5xx, never a hang past its store request timeout); afterwards every accepted job
/// ends as designed exactly once, no attempt overlapped another of its job, no deposed leader's write was accepted
/// (<see cref="ChaosChecks"/>, docs/chaos.md). One subclass per backend, each in its own collection, so the two run
/// side by side.
/// </summary>
public abstract class StoreOutageTests(ITestOutputHelper output)
{
    /// <summary>How long the store is away: the fault's length, not a wait for anything.</summary>
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    private const int Jobs = 90;

    // After the store is back, sessions and connections recover within a session timeout plus a reconnect backoff,
    // and a request that waited on the store gives up after the store request timeout (5 s).
    private static readonly TimeSpan Grace = ChaosSettings.SessionTimeout + TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    [Fact]
    public async Task Through_a_30_s_outage_of_every_store_member_and_a_rolling_restart_nothing_accepted_is_lost_or_run_twice()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await ChaosCluster.StartAsync(Backend);
        Say($"cluster up in {clock.Elapsed.TotalSeconds:0} s");
        var incarnations = cluster.Apps.Processes.Select(p => p.ProcessId).ToHashSet();

        var seed = Random.Shared.Next(1, 1_000_000);
        var runId = "outage-" + seed.ToString(CultureInfo.InvariantCulture);
        using var recorder = new ChaosRecorder(cluster, JobPlan.Draw(new Random(seed), Jobs, runId), seed);
        var (timeline, requests, workload) = (recorder.Timeline, recorder.Requests, recorder.Workload);

        // Jobs go out over the whole scenario: before, during and after the outage and the rolling restart.
        var submitting = workload.RunAsync(TimeSpan.FromSeconds(40));
        await Eventually.UntilAsync(() => Task.FromResult(workload.Accepted.Count >= 10), Deadline, () => $"{workload.Accepted.Count} accepted");

        // 1. Every member down for 30 s.
        var members = Enumerable.Range(0, cluster.Servers.Members.Count).ToList();
        var outage = timeline.Begin(FaultKind.StoreOutage, "store");
        await Task.WhenAll(members.Select(cluster.Servers.KillAsync));
        Say($"{timeline.At(outage.Start)} every store member killed");
        var answers = await Task.WhenAll(cluster.LiveDirectors().Select(d => UnavailableAnswerAsync(d.Client)));
        Say("while the store is down: " + string.Join("; ", cluster.LiveDirectors().Zip(answers, (d, a) => $"{d.Name}: {a}")));
        var left = Outage - (DateTimeOffset.UtcNow - outage.Start);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left); // the fault's length, not synchronisation
        }

        await cluster.Servers.StartMembersAsync(members);
        timeline.End(outage);
        Say($"{timeline.At(outage.End!.Value)} every store member serves again");
        var acceptedBefore = workload.Accepted.Count;
        await cluster.WaitUntilWholeAsync(Deadline);
        await Eventually.UntilAsync(() => Task.FromResult(workload.Accepted.Count > acceptedBefore), Deadline, () => $"{workload.Accepted.Count} accepted");
        Say($"{timeline.At(DateTimeOffset.UtcNow)} whole again: every agent registered, a leader, new jobs accepted");

        // 2. A rolling restart: one member at a time, each serving again before the next goes.
        foreach (var member in members)
        {
            var step = timeline.Begin(FaultKind.RestartStoreMember, $"store-{cluster.Servers.Members[member].Name}");
            await cluster.Servers.StopAsync(member);
            await cluster.Servers.StartMemberAsync(member);
            timeline.End(step);
        }

        Say($"{timeline.At(DateTimeOffset.UtcNow)} rolling restart done");
        await submitting;
        await cluster.WaitUntilWholeAsync(Deadline);

        // No director or agent was restarted, and none died.
        Assert.Equal(incarnations, cluster.Apps.Processes.Select(p => p.ProcessId).ToHashSet());
        Assert.All(cluster.Apps.Processes, p => Assert.False(p.HasExited, $"{p.Name} exited:\n{p.LogTail(30)}"));

        await recorder.UntilEveryAcceptedJobEndedAsync(Deadline);
        var checks = await recorder.StopAndCheckAsync(Grace);
        // Every 503 says when to come back.
        var bare = requests.Calls.Where(c => c.Status == 503 && c.RetryAfter is null).ToList();
        checks.Violations.AddRange(bare.Take(10).Select(c => $"[outage] 503 without Retry-After from {c.Director} for {c.Operation} at {timeline.At(c.Start)}"));
        // No director was killed here: a request without an answer waited past the client's timeout or met a reset.
        foreach (var call in requests.Calls.Where(c => c.Status is null))
        {
            checks.Report.Append(CultureInfo.InvariantCulture, $"   no answer from {call.Director} for {call.Operation} at {timeline.At(call.Start)} after {(call.End - call.Start).TotalSeconds:0.0} s: {call.Error}\n");
        }

        var report = $"Store outage on {Backend.Name}, seed {seed}: {clock.Elapsed.TotalSeconds:0} s in all.\n{checks.Report}Fault timeline:\n{timeline.Describe()}";
        Say(report);
        Assert.True(checks.Violations.Count == 0, $"{checks.Violations.Count} violations:\n{string.Join('\n', checks.Violations)}\n\n{report}");
        Assert.All(answers, a => Assert.StartsWith("503", a, StringComparison.Ordinal));
    }

    /// <summary>What a director answers a listing while the store is down: waits (bounded) for its first answer that
    /// is not a 200 from before the outage was noticed, and returns <c>503 Retry-After: n</c> or what came instead.</summary>
    private static async Task<string> UnavailableAnswerAsync(DirectorClient client)
    {
        var answer = "nothing yet";
        await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    using var response = await client.Http.GetAsync(new Uri("/v1/jobs?limit=1", UriKind.Relative));
                    answer = $"{(int)response.StatusCode} Retry-After: {response.Headers.RetryAfter?.ToString() ?? "none"}";
                    return response.StatusCode != HttpStatusCode.OK;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    answer = $"no answer: {e.Message}";
                    return true;
                }
            },
            TimeSpan.FromSeconds(20),
            () => answer);
        return answer;
    }

    private void Say(string line)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has ended: nobody reads it.
        }
    }
}

/// <summary>The store outage on ZooKeeper.</summary>
[Collection(ZooKeeperOutageCollection.Name)]
public sealed class ZooKeeperStoreOutageTests(ITestOutputHelper output) : StoreOutageTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>The store outage on etcd.</summary>
[Collection(EtcdOutageCollection.Name)]
public sealed class EtcdStoreOutageTests(ITestOutputHelper output) : StoreOutageTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}

/// <summary>The ZooKeeper store outage: a collection of its own, so it runs beside the etcd one and the rest.</summary>
[CollectionDefinition(Name)]
public sealed class ZooKeeperOutageCollection
{
    /// <summary>Collection name.</summary>
    public const string Name = "outage-zookeeper";
}

/// <summary>The etcd store outage: a collection of its own, so it runs beside the ZooKeeper one and the rest.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdOutageCollection
{
    /// <summary>Collection name.</summary>
    public const string Name = "outage-etcd";
}
