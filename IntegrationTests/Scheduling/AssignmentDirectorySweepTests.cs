using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.IntegrationTests.Scheduling;

/// <summary>
/// The leader's sweep of empty <c>assignments/&lt;worker&gt;</c> directories against a real store: on ZooKeeper the
/// directories of departed workers go (a bounded number per run), a registered worker's and a non-empty one's stay,
/// and a placement under a swept directory still lands; on etcd, which has no directories, it does nothing.
/// </summary>
public abstract class AssignmentDirectorySweepTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private static readonly byte[] Record = "{}"u8.ToArray();
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly string _root = TestNames.Unique();

    protected abstract StoreOptions Options(string root);

    /// <summary>True where parents are nodes of their own (ZooKeeper).</summary>
    protected abstract bool HasDirectories { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task Directories_of_departed_workers_are_swept_a_bounded_number_per_run_and_others_stay()
    {
        var main = await ConnectAsync();
        var scheduler = await ConnectAsync();
        var other = await ConnectAsync();
        var election = new LeaderElection(main, new LeaderElectionOptions { ElectionKey = StoreLayout.Election });
        _disposables.Add(election);
        election.Start();
        await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");

        // Five departed workers whose attempts were all taken back (empty directories), one of them created
        // through `other`, which therefore believes its directory exists; a departed worker with an attempt still
        // recorded; a registered worker with an empty directory.
        var departed = Enumerable.Range(1, 5).Select(i => $"gone-{i}").ToList();
        foreach (var worker in departed)
        {
            await CreateAndDeleteAssignmentAsync(worker == "gone-1" ? other : scheduler, worker);
        }

        await CommitOkAsync(scheduler, new Transaction().Create(StoreLayout.Assignment("busy", "j1", 1), Record));
        await CommitOkAsync(main, new Transaction().Create(StoreLayout.Worker("live"), ContractJson.Serialize(new WorkerRecord { Id = "live" }), ephemeral: true));
        await CreateAndDeleteAssignmentAsync(scheduler, "live");

        var sweep = new AssignmentDirectorySweep(
            scheduler, election, new AssignmentSweepOptions { MaxDeletesPerRun = 3, MaxChecksPerRun = 3 }, NullLogger.Instance, TimeProvider.System);
        var runs = new List<int> { await sweep.SweepAsync(CancellationToken.None), await sweep.SweepAsync(CancellationToken.None), await sweep.SweepAsync(CancellationToken.None) };

        if (!HasDirectories)
        {
            Assert.Equal([0, 0, 0], runs);
            return;
        }

        Assert.Equal(5, runs.Sum());
        Assert.All(runs, n => Assert.InRange(n, 0, 3));
        Assert.Equal(["busy", "live"], await NamesAsync(other, StoreLayout.Assignments));
        Assert.Equal(0, await sweep.SweepAsync(CancellationToken.None));

        // The race the sweep relies on: a directory that got a child after the check is not deleted, and the
        // transaction says which operation failed instead of throwing.
        var notEmpty = await scheduler.CommitAsync(new Transaction().Delete(StoreLayout.WorkerAssignments("busy")));
        Assert.False(notEmpty.Succeeded);
        Assert.Equal(0, notEmpty.FailedIndex);
        Assert.NotNull(await scheduler.GetAsync(StoreLayout.Assignment("busy", "j1", 1)));

        // A placement under a swept directory lands: through the sweeping store, and through one that still
        // believed the directory existed (its multi fails with NoNode once, then the parent is created again).
        await CommitOkAsync(scheduler, new Transaction().Create(StoreLayout.Assignment("gone-2", "j2", 1), Record));
        await CommitOkAsync(other, new Transaction().Create(StoreLayout.Assignment("gone-1", "j3", 1), Record));
        Assert.NotNull(await scheduler.GetAsync(StoreLayout.Assignment("gone-1", "j3", 1)));

        // A deposed leader's sweep deletes nothing.
        await CommitOkAsync(scheduler, new Transaction().Delete(StoreLayout.Assignment("gone-2", "j2", 1)));
        await election.ResignAsync();
        await Assert.ThrowsAsync<LeadershipLostException>(() => sweep.SweepAsync(CancellationToken.None));
        Assert.Contains("gone-2", await NamesAsync(other, StoreLayout.Assignments));
    }

    private static async Task CreateAndDeleteAssignmentAsync(ICoordinationStore store, string workerId)
    {
        var key = StoreLayout.Assignment(workerId, "j0", 1);
        await CommitOkAsync(store, new Transaction().Create(key, Record));
        await CommitOkAsync(store, new Transaction().Delete(key));
    }

    private static async Task<List<string>> NamesAsync(ICoordinationStore store, string parent) =>
        [.. await ((IStoreDirectories)store).ListChildNamesAsync(parent)];

    private static async Task CommitOkAsync(ICoordinationStore store, Transaction transaction)
    {
        var result = await store.CommitAsync(transaction);
        Assert.True(result.Succeeded, $"commit failed at index {result.FailedIndex}");
    }

    private async Task<ICoordinationStore> ConnectAsync()
    {
        var store = await Options(_root).ConnectAsync();
        _disposables.Add(store);
        return store;
    }
}

/// <summary>The sweep on ZooKeeper, where empty directories stay until removed.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperAssignmentDirectorySweepTests(ZooKeeperFixture fixture) : AssignmentDirectorySweepTests
{
    protected override bool HasDirectories => true;

    protected override StoreOptions Options(string root) => new()
    {
        Backend = "zookeeper",
        Endpoints = fixture.ConnectionString,
        Root = root,
        SessionTimeout = TimeSpan.FromSeconds(3),
    };
}

/// <summary>The sweep on etcd: nothing to do.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdAssignmentDirectorySweepTests(EtcdFixture fixture) : AssignmentDirectorySweepTests
{
    protected override bool HasDirectories => false;

    protected override StoreOptions Options(string root) => new()
    {
        Backend = "etcd",
        Endpoints = fixture.Endpoints,
        Root = root,
        SessionTimeout = TimeSpan.FromSeconds(3),
    };
}
