using System.Diagnostics.Metrics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.IntegrationTests.Scheduling;

/// <summary>
/// The leader's scheduler against a real store, with the test playing the agent through the store records of
/// docs/protocol.md: placement, the report fold, take-back when a worker leaves, and a new leader carrying on
/// from the store alone. One subclass per backend.
/// </summary>
public abstract class LeaderSchedulerTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly string _root = TestNames.Unique();

    protected abstract StoreOptions Options(string root);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task A_job_is_placed_on_a_registered_worker_and_its_reported_result_finishes_it()
    {
        var director = await ConnectAsync();
        var agent = await ConnectAsync();
        await RegisterWorkerAsync(agent, "w1");
        var job = await SubmitAsync(director, new JobSpec { Executor = "echo" });
        await StartLeaderAsync(director);

        var (key, assignment) = await WaitForAssignmentAsync(agent, "w1", job);
        Assert.Equal(agent.Session.Id, assignment.Record.WorkerSession);
        Assert.Equal(JobState.Assigned, (await ReadJobAsync(agent, job))!.State);

        await ReportAsync(agent, key, assignment, r => r with { State = AttemptState.Running, StartedAt = DateTimeOffset.UtcNow });
        var running = await agent.GetAsync(key);
        await ReportAsync(agent, key, (running!, ContractJson.Deserialize<AssignmentRecord>(running!.Value.Span)),
            r => r with { State = AttemptState.Succeeded, ExitCode = 0, Output = "hello", FinishedAt = DateTimeOffset.UtcNow });

        var done = await WaitForJobAsync(agent, job, r => r.State.IsTerminal());
        Assert.Equal((JobState.Succeeded, 0, "hello"), (done.State, done.ExitCode, done.Output));
        await Eventually.UntilAsync(async () => await agent.GetAsync(key) is null, Deadline);
    }

    [Fact]
    public async Task When_a_worker_leaves_its_job_runs_again_on_another_with_the_next_attempt()
    {
        var director = await ConnectAsync();
        var leaving = await ConnectAsync(track: false);
        var staying = await ConnectAsync();
        await RegisterWorkerAsync(leaving, "w-leaving");
        var job = await SubmitAsync(director, new JobSpec { Executor = "echo" });
        await StartLeaderAsync(director);
        var (key, first) = await WaitForAssignmentAsync(leaving, "w-leaving", job);
        await ReportAsync(leaving, key, first, r => r with { State = AttemptState.Running });
        await RegisterWorkerAsync(staying, "w-staying");

        await leaving.DisposeAsync(); // its session ends: the registration vanishes

        var (_, second) = await WaitForAssignmentAsync(staying, "w-staying", job, attempt: 2);
        Assert.Equal(2, second.Record.Attempt);
        Assert.Null(await staying.GetAsync(key));
    }

    [Fact]
    public async Task A_running_attempt_whose_agent_goes_silent_is_ended_at_its_timeout_plus_grace()
    {
        var director = await ConnectAsync();
        var agent = await ConnectAsync();
        await RegisterWorkerAsync(agent, "w-silent");
        var job = await SubmitAsync(director, new JobSpec { Executor = "echo", TimeoutSeconds = 1, MaxAttempts = 1 });
        await StartLeaderAsync(director);
        var (key, assignment) = await WaitForAssignmentAsync(agent, "w-silent", job);

        // Running, then nothing: the session stays alive (a gray failure), so only the timeout can end it.
        await ReportAsync(agent, key, assignment, r => r with { State = AttemptState.Running });

        var done = await WaitForJobAsync(agent, job, r => r.State.IsTerminal());
        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("timed out", done.Error, StringComparison.Ordinal);
        Assert.Null(await agent.GetAsync(key));
    }

    [Fact]
    public async Task A_new_leader_carries_on_from_the_store_alone()
    {
        var first = await ConnectAsync(track: false);
        var second = await ConnectAsync();
        var agent = await ConnectAsync();
        await RegisterWorkerAsync(agent, "w1");
        await StartLeaderAsync(first);
        var job1 = await SubmitAsync(second, new JobSpec { Executor = "echo" });
        var (key1, a1) = await WaitForAssignmentAsync(agent, "w1", job1);
        await StartLeaderAsync(second);

        await first.DisposeAsync(); // the first leader's session ends; the second takes over
        await ReportAsync(agent, key1, a1, r => r with { State = AttemptState.Succeeded, ExitCode = 0 });
        var job2 = await SubmitAsync(second, new JobSpec { Executor = "echo" });

        Assert.Equal(JobState.Succeeded, (await WaitForJobAsync(agent, job1, r => r.State.IsTerminal())).State);
        var (_, a2) = await WaitForAssignmentAsync(agent, "w1", job2);
        Assert.True(a2.Record.Epoch > a1.Record.Epoch, $"epoch {a2.Record.Epoch} after {a1.Record.Epoch}");
    }

    private async Task<ICoordinationStore> ConnectAsync(bool track = true)
    {
        var store = await Options(_root).ConnectAsync();
        if (track)
        {
            _disposables.Add(store);
        }

        return store;
    }

    private async Task StartLeaderAsync(ICoordinationStore store)
    {
        var election = new LeaderElection(store, new LeaderElectionOptions { ElectionKey = StoreLayout.Election });
        election.Start();
        var stop = new CancellationTokenSource();
        var scheduler = new LeaderScheduler(new SchedulerOptions { RetryBackoff = TimeSpan.FromMilliseconds(100), TimeoutGrace = TimeSpan.FromMilliseconds(500) },
            new SchedulerMetrics(new TestMeterFactory()), NullLoggerFactory.Instance, TimeProvider.System);
        var run = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var lead = await election.WaitForLeadershipAsync(stop.Token);
                    await scheduler.RunAsync(store, election, lead, stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or StoreException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        _disposables.Add(new AsyncDisposable(async () =>
        {
            await stop.CancelAsync();
            await run;
            await election.DisposeAsync();
            stop.Dispose();
        }));
    }

    private static async Task RegisterWorkerAsync(ICoordinationStore store, string id)
    {
        var record = new WorkerRecord
        {
            Id = id,
            Slots = 2,
            Executors = ["echo"],
            Features = [.. Protocol.Features.All],
            HeartbeatSeconds = 60,
        };
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Worker(id), ContractJson.Serialize(record), ephemeral: true));
        Assert.True(result.Succeeded);
    }

    private static async Task<string> SubmitAsync(ICoordinationStore store, JobSpec spec)
    {
        var id = JobIds.New();
        var record = new JobRecord { Id = id, Spec = spec, CreatedAt = DateTimeOffset.UtcNow };
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Job(id), ContractJson.Serialize(record)));
        Assert.True(result.Succeeded);
        return id;
    }

    private static async Task<JobRecord?> ReadJobAsync(ICoordinationStore store, string id) =>
        await store.GetAsync(StoreLayout.Job(id)) is { } item ? ContractJson.Deserialize<JobRecord>(item.Value.Span) : null;

    private static async Task<JobRecord> WaitForJobAsync(ICoordinationStore store, string id, Func<JobRecord, bool> condition)
    {
        JobRecord? last = null;
        await Eventually.UntilAsync(async () => (last = await ReadJobAsync(store, id)) is { } r && condition(r), Deadline, () => $"{last}");
        return last!;
    }

    private static async Task<(string Key, (StoreItem Item, AssignmentRecord Record))> WaitForAssignmentAsync(
        ICoordinationStore store, string workerId, string jobId, int attempt = 1)
    {
        var key = StoreLayout.Assignment(workerId, jobId, attempt);
        StoreItem? item = null;
        await Eventually.UntilAsync(async () => (item = await store.GetAsync(key)) is not null, Deadline, () => $"no {key}");
        return (key, (item!, ContractJson.Deserialize<AssignmentRecord>(item!.Value.Span)));
    }

    private static async Task ReportAsync(
        ICoordinationStore store, string key, (StoreItem Item, AssignmentRecord Record) current, Func<AssignmentRecord, AssignmentRecord> change)
    {
        var result = await store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(change(current.Record)), current.Item.Version));
        Assert.True(result.Succeeded, $"report on {key} refused");
    }

    private sealed class AsyncDisposable(Func<Task> dispose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await dispose();
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}

/// <summary>The scheduler on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperLeaderSchedulerTests(ZooKeeperFixture fixture) : LeaderSchedulerTests
{
    protected override StoreOptions Options(string root) => new()
    {
        Backend = "zookeeper",
        Endpoints = fixture.ConnectionString,
        Root = root,
        SessionTimeout = TimeSpan.FromSeconds(3),
    };
}

/// <summary>The scheduler on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdLeaderSchedulerTests(EtcdFixture fixture) : LeaderSchedulerTests
{
    protected override StoreOptions Options(string root) => new()
    {
        Backend = "etcd",
        Endpoints = fixture.Endpoints,
        Root = root,
        SessionTimeout = TimeSpan.FromSeconds(3),
    };
}
