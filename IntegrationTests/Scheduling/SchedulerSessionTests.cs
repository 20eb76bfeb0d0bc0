using System.Diagnostics.Metrics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.IntegrationTests.Scheduling;

/// <summary>
/// The leader schedules through a connection of its own while its candidacy lives on the main one (as the director
/// runs it): losing the scheduler's session must not crash anything, and scheduling goes on once a new one is open.
/// </summary>
public abstract class SchedulerSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly string _root = TestNames.Unique();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    /// <summary>The store's single client endpoint.</summary>
    protected abstract string Endpoint { get; }

    protected abstract StoreOptions Options(string root, string endpoints);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            try
            {
                await _disposables[i].DisposeAsync();
            }
            catch (Exception e) when (e is StoreException or ObjectDisposedException or OperationCanceledException)
            {
                // Closing after a cut is best effort.
            }
        }

        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Losing_the_schedulers_own_session_does_not_end_leadership_and_scheduling_resumes_on_a_new_one()
    {
        var main = await ConnectAsync(Endpoint);
        var proxy = TcpProxy.Start(Endpoint);
        _disposables.Add(proxy); // after the store behind it, so the store closes first
        var scheduler = await ConnectAsync(proxy.Address);
        var agent = await ConnectAsync(Endpoint);
        await RegisterWorkerAsync(agent, "w1");
        var election = new LeaderElection(main, new LeaderElectionOptions { ElectionKey = StoreLayout.Election });
        _disposables.Add(election);
        election.Start();
        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        var run = StartScheduler(scheduler, election, lead);
        await WaitForAssignmentAsync(agent, "w1", await SubmitAsync(agent));

        // Only the scheduler's connection goes: its session is lost (the client declares it so once cut off for
        // the session timeout), the candidacy's session is untouched.
        var before = scheduler.Session;
        proxy.RejectNew = true;
        proxy.CutAll();
        await Eventually.UntilAsync(() => before.State is SessionState.Lost or SessionState.Closed, Deadline, () => $"scheduler session {before.State}");
        proxy.RejectNew = false;

        await WaitForAssignmentAsync(agent, "w1", await SubmitAsync(agent));
        Assert.NotEqual(before.Id, scheduler.Session.Id);
        Assert.True(election.Current.IsLeader && election.Current.Epoch == lead.Epoch, election.Current.ToString());
        Assert.False(run.IsFaulted, run.Exception?.ToString());
    }

    private Task StartScheduler(ICoordinationStore store, LeaderElection election, Leadership lead)
    {
        var stop = new CancellationTokenSource();
        var scheduler = new LeaderScheduler(new SchedulerOptions(), new SchedulerMetrics(_services.GetRequiredService<IMeterFactory>()), NullLoggerFactory.Instance, TimeProvider.System);
        var run = Task.Run(() => scheduler.RunAsync(store, election, lead, stop.Token));
        _disposables.Add(new Stopper(async () =>
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }, TaskScheduler.Default);
            stop.Dispose();
        }));
        return run;
    }

    private static async Task RegisterWorkerAsync(ICoordinationStore store, string id)
    {
        var record = new WorkerRecord { Id = id, Slots = 4, Executors = ["echo"], Features = [.. Protocol.Features.All], HeartbeatSeconds = 60 };
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Worker(id), ContractJson.Serialize(record), ephemeral: true));
        Assert.True(result.Succeeded);
    }

    private static async Task<string> SubmitAsync(ICoordinationStore store)
    {
        var record = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "echo" }, CreatedAt = DateTimeOffset.UtcNow };
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Job(record.Id), ContractJson.Serialize(record)));
        Assert.True(result.Succeeded);
        return record.Id;
    }

    private static async Task WaitForAssignmentAsync(ICoordinationStore store, string workerId, string jobId) =>
        await Eventually.UntilAsync(async () => await store.GetAsync(StoreLayout.Assignment(workerId, jobId, 1)) is not null, Deadline, () => $"{jobId} not placed");

    private async Task<ICoordinationStore> ConnectAsync(string endpoints)
    {
        var store = await Options(_root, endpoints).ConnectAsync();
        _disposables.Add(store);
        return store;
    }

    private sealed class Stopper(Func<Task> stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await stop();
    }
}

/// <summary>On ZooKeeper: the scheduler's session expires and the store opens a new one.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperSchedulerSessionTests(ZooKeeperFixture fixture) : SchedulerSessionTests
{
    protected override string Endpoint => fixture.ConnectionString.Split(',')[0];

    protected override StoreOptions Options(string root, string endpoints) =>
        new() { Backend = "zookeeper", Endpoints = endpoints, Root = root, SessionTimeout = TimeSpan.FromSeconds(3) };
}

/// <summary>On etcd: the scheduler's lease is lost and the store grants a new one.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdSchedulerSessionTests(EtcdFixture fixture) : SchedulerSessionTests
{
    protected override string Endpoint => fixture.Endpoints.Split(',')[0];

    protected override StoreOptions Options(string root, string endpoints) =>
        new() { Backend = "etcd", Endpoints = endpoints, Root = root, SessionTimeout = TimeSpan.FromSeconds(3) };
}
