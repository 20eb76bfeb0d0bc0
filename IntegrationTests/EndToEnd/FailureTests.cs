using System.Collections.Concurrent;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Processes dying and losing the store, for real: kill -9 of the leader director during a 500-job run, kill -9 of
/// an agent with running jobs, an agent cut off from the store past its session timeout, and SIGTERM drain. Each
/// test starts its own store and processes, and checks the agents' execution logs: no two attempts of one job ever
/// ran at the same time. One subclass per backend; the collection runs alone (many processes on two cores).
/// </summary>
public abstract class FailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly ITestOutputHelper _output;
    private ServerCluster? _servers;

    protected FailureTests(ITestOutputHelper output) => _output = output;

    protected abstract E2eBackend Backend { get; }

    private ControlPlaneApps Apps { get; } = new("e2e-failures");

    private StoreTarget Target { get; set; } = null!;

    private ServerCluster Servers => _servers!;

    public async Task InitializeAsync()
    {
        _servers = await Backend.StartAsync();
        Target = Backend.Target(_servers, "e2e");
    }

    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }

    [Fact]
    public async Task Killing_the_leader_during_a_500_job_run_loses_and_doubles_nothing()
    {
        var directors = await Task.WhenAll(Apps.StartDirectorAsync(Target, "director-1"), Apps.StartDirectorAsync(Target, "director-2"));
        await Task.WhenAll(Enumerable.Range(1, 3).Select(i => Apps.StartAgentAsync(Target, $"agent-{i}", slots: 8)));
        await WaitForWorkersAsync(directors[0].Client, 3);
        var leaderId = (await directors[0].Client.LeaderAsync())!.DirectorId;
        var leader = directors.Single(d => d.Process.Name == leaderId);
        var survivor = directors.Single(d => d != leader);

        var ids = new ConcurrentBag<string>();
        var submitted = 0;
        var killed = false;
        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var seconds = 0.05 + ((i % 5) * 0.05);
            var args = JsonDocument.Parse($$"""{"seconds":{{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""").RootElement;
            ids.Add((await survivor.Client.SubmitAsync(new JobSpec { Executor = "sleep", Args = args }, cancellationToken: ct)).Id);
            if (Interlocked.Increment(ref submitted) == 250 && !killed)
            {
                killed = true;
                await leader.Process.KillAsync();
            }
        });

        var pending = ids.ToHashSet();
        var states = new Dictionary<JobState, int>();
        await Eventually.UntilAsync(
            async () =>
            {
                var all = await survivor.Client.AllJobsAsync();
                states = all.GroupBy(j => j.State).ToDictionary(g => g.Key, g => g.Count());
                return all.Count(j => pending.Contains(j.Id) && j.State.IsTerminal()) == pending.Count;
            },
            TimeSpan.FromMinutes(3),
            () => string.Join(", ", states.Select(s => $"{s.Key}: {s.Value}")) + "\n" + survivor.Process.LogTail(20));

        var jobs = await survivor.Client.AllJobsAsync();
        Assert.Equal(500, jobs.Count(j => pending.Contains(j.Id)));
        Assert.All(jobs, j => Assert.Equal(JobState.Succeeded, j.State));
        var events = ExecutionLog.Read(Apps.ExecutionLogs);
        Assert.Empty(ExecutionLog.Overlaps(events));
        Assert.Equal(500, events.Where(e => e.Event == "end").Select(e => e.JobId).Distinct().Count());
        _output.WriteLine($"{events.Count(e => e.Event == "start")} executions for 500 jobs; leader {leaderId} killed after 250 submissions");
    }

    [Fact]
    public async Task Killing_an_agent_runs_its_jobs_again_elsewhere()
    {
        var director = await Apps.StartDirectorAsync(Target, "director-1");
        var doomed = await Apps.StartAgentAsync(Target, "agent-doomed");
        await WaitForWorkersAsync(director.Client, 1);
        // Long enough that starting the second agent (seconds on a busy machine) cannot outlast the first attempts.
        var args = JsonDocument.Parse("""{"seconds":20}""").RootElement;
        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => director.Client.SubmitAsync(new JobSpec { Executor = "sleep", Args = args })));
        await Eventually.UntilAsync(
            async () => (await Task.WhenAll(jobs.Select(j => director.Client.GetJobAsync(j.Id)))).All(j => j!.State == JobState.Running),
            Deadline);
        await Apps.StartAgentAsync(Target, "agent-survivor");
        await WaitForWorkersAsync(director.Client, 2);

        await doomed.KillAsync();

        foreach (var job in jobs)
        {
            var done = await director.Client.WaitForTerminalAsync(job.Id, Deadline);
            // The lost attempt was not the job's fault: it does not count against maxAttempts.
            Assert.Equal((JobState.Succeeded, 2, 1, "agent-survivor"), (done.State, done.Attempt, done.Interruptions, done.WorkerId));
        }

        var killedAt = new Dictionary<int, DateTimeOffset> { [doomed.ProcessId] = doomed.KilledAt!.Value };
        Assert.Empty(ExecutionLog.Overlaps(ExecutionLog.Read(Apps.ExecutionLogs), killedAt));
    }

    [Fact]
    public async Task An_agent_cut_off_from_the_store_stops_its_job_before_it_runs_elsewhere()
    {
        var director = await Apps.StartDirectorAsync(Target, "director-1");
        await using var proxy = TcpProxy.Start(Servers.Members[0].ClientAddress);
        var isolated = await Apps.StartAgentAsync(Target.Via(proxy.Address), "agent-isolated");
        await WaitForWorkersAsync(director.Client, 1);
        // Attempt 1 would run for a minute; attempt 2 ends at once.
        var job = await director.Client.SubmitAsync(new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", "if [ \"$CP_ATTEMPT\" = 1 ]; then sleep 60; fi; echo attempt-$CP_ATTEMPT-done"],
            MaxAttempts = 3,
        });
        await Eventually.UntilAsync(async () => (await director.Client.GetJobAsync(job.Id))?.State == JobState.Running, Deadline);
        await Apps.StartAgentAsync(Target, "agent-healthy");
        await WaitForWorkersAsync(director.Client, 2);

        proxy.Pause();
        var done = await director.Client.WaitForTerminalAsync(job.Id, Deadline);
        proxy.Resume();

        Assert.Equal((JobState.Succeeded, 2, "agent-healthy"), (done.State, done.Attempt, done.WorkerId));
        var events = ExecutionLog.Read(Apps.ExecutionLogs);
        Assert.Empty(ExecutionLog.Overlaps(events));
        Assert.Contains(events, e => e.Event == "fenced" && e.JobId == job.Id && e.Attempt == 1);
        // Back in touch, the isolated agent reports its stopped attempt: the store refuses it, the agent logs it.
        await Eventually.UntilAsync(
            () => ExecutionLog.Read(Apps.ExecutionLogs).Any(e => e.Event == "rejected" && e.JobId == job.Id && e.Attempt == 1),
            Deadline,
            () => isolated.LogTail(30));
    }

    [Fact]
    public async Task SIGTERM_drains_an_agent_its_job_finishes_and_it_deregisters()
    {
        var director = await Apps.StartDirectorAsync(Target, "director-1");
        var agent = await Apps.StartAgentAsync(Target, "agent-draining");
        await WaitForWorkersAsync(director.Client, 1);
        var args = JsonDocument.Parse("""{"seconds":2}""").RootElement;
        var job = await director.Client.SubmitAsync(new JobSpec { Executor = "sleep", Args = args });
        await Eventually.UntilAsync(async () => (await director.Client.GetJobAsync(job.Id))?.State == JobState.Running, Deadline);

        var exitCode = await agent.TerminateAsync(Deadline);

        Assert.Equal(0, exitCode);
        var done = await director.Client.WaitForTerminalAsync(job.Id, Deadline);
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempt));
        Assert.Empty(await director.Client.WorkersAsync());
    }

    private async Task WaitForWorkersAsync(DirectorClient client, int count)
    {
        var seen = 0;
        await Eventually.UntilAsync(
            async () => (seen = (await client.WorkersAsync()).Count) >= count && await client.LeaderAsync() is not null,
            Deadline,
            () => $"{seen} workers\n" + string.Join("\n---\n", Apps.Processes.Select(p => $"{p.Name}:\n{p.LogTail(10)}")));
    }
}

/// <summary>Failures on ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperFailureTests(ITestOutputHelper output) : FailureTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>Failures on etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdFailureTests(ITestOutputHelper output) : FailureTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}

/// <summary>The failure tests of one backend run one after another (each starts a store and several .NET processes,
/// and kills some), beside the other collections: a serial tail of them left a core idle for minutes
/// (docs/testing.md, "Run time").</summary>
[CollectionDefinition(ZooKeeper)]
public sealed class FailureCollection
{
    /// <summary>Collection name of the ZooKeeper failure tests.</summary>
    public const string ZooKeeper = "e2e-failures-zookeeper";

    /// <summary>Collection name of the etcd failure tests.</summary>
    public const string Etcd = "e2e-failures-etcd";
}

/// <summary>The etcd failure tests' collection (see <see cref="FailureCollection"/>).</summary>
[CollectionDefinition(FailureCollection.Etcd)]
public sealed class EtcdFailureCollection;
