using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.IntegrationTests.Director;
using ControlPlane.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.IntegrationTests.Scheduling;

/// <summary>
/// The leader's watchdog with real directors: a leader whose scheduling loop stops making progress (its passes held by
/// the test-only <see cref="SchedulerFaults"/>, its session and candidacy alive) resigns after
/// <c>Scheduler:WatchdogTimeout</c>, and the other director takes over; a stall in one cell resigns that cell alone.
/// One subclass per backend.
/// </summary>
public abstract class WatchdogTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);
    private readonly List<DirectorHost> _directors = [];

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client endpoints.</summary>
    protected abstract string Endpoints { get; }

    private string Root { get; } = "t/" + TestNames.Unique("watchdog");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var director in _directors)
        {
            director.Service<SchedulerFaults>().Release();
            await director.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_leader_whose_scheduler_stops_making_progress_resigns_and_another_director_takes_over()
    {
        var first = Start();
        var leader = await LeaderAsync(first, null);
        var second = Start();

        // Both are candidates (the second in line), and the first's term runs.
        var options = new StoreOptions { Backend = Backend, Endpoints = Endpoints, Root = Root, SessionTimeout = TimeSpan.FromSeconds(4) };
        await using var store = await options.ConnectAsync();
        await Eventually.UntilAsync(async () => (await store.ListAsync(StoreLayout.Election, new ListOptions(10, null))).Items.Count == 2, Deadline);
        await Eventually.UntilAsync(() => first.Service<DirectorRuntime>().Leading is not null, Deadline);
        var stalled = first;
        Assert.Equal(leader, Id(stalled));

        stalled.Service<SchedulerFaults>().Stall();

        var next = await LeaderAsync(first, leader);
        Assert.NotEqual(leader, next);
        Assert.Equal(next, Id(_directors.Single(d => d != stalled)));
        _ = second;
    }

    [Fact]
    public async Task A_leader_whose_loop_stalls_in_one_cell_resigns_that_cell_only()
    {
        var options = new StoreOptions { Backend = Backend, Endpoints = Endpoints, Root = Root, SessionTimeout = TimeSpan.FromSeconds(4) };
        await using var store = await options.ConnectAsync();
        await CellRegistry.EnsureAsync(store, "a", "test", TimeProvider.System);
        var first = Start();
        await Eventually.UntilAsync(
            () => first.Service<DirectorRuntime>().Campaigns.Count(c => c.Leading is not null) == 2, Deadline,
            () => "cells led: " + string.Join(", ", first.Service<DirectorRuntime>().Campaigns.Where(c => c.IsLeader).Select(c => c.Cell)));
        var second = Start();
        // The second director stands in line in both cells (spreading is held off for the test's length).
        await Eventually.UntilAsync(
            async () => (await store.ListAsync(StoreLayout.Election)).Items.Count == 2 && (await store.ForCell("a").ListAsync(StoreLayout.Election)).Items.Count == 2, Deadline);
        var defaultEpoch = first.Service<DirectorRuntime>().Campaign(Cells.Default)!.Election!.Current.Epoch;

        first.Service<SchedulerFaults>().Stall("a");

        // Cell a moves to the second director; the first keeps leading the default cell in the same term.
        await Eventually.UntilAsync(() => second.Service<DirectorRuntime>().Campaign("a")?.Leading is not null, Deadline);
        var kept = first.Service<DirectorRuntime>().Campaign(Cells.Default)!;
        Assert.True(kept.Leading is not null && kept.Election!.Current.Epoch == defaultEpoch && kept.Resignations == 0, "the default cell's term ended too");
        Assert.Equal(1, first.Service<DirectorRuntime>().Campaign("a")!.Resignations);
        Assert.Null(second.Service<DirectorRuntime>().Campaign(Cells.Default)!.Leading);
    }

    private DirectorHost Start()
    {
        var director = new DirectorHost(Backend, Endpoints, Root, runtime: true, new Dictionary<string, string>
        {
            ["Scheduler:WatchdogTimeout"] = "00:00:04",
            ["Director:CellDiscoveryInterval"] = "00:00:00.300",
            ["Director:SpreadInterval"] = "00:10:00",
        }, services => services.AddSingleton<SchedulerFaults>());
        _directors.Add(director);
        _ = director.Client; // the host starts with its first client
        return director;
    }

    private static string Id(DirectorHost director) => director.Service<DirectorIdentity>().Id;

    /// <summary>The leader's id once it is not <paramref name="not"/>.</summary>
    private static async Task<string> LeaderAsync(DirectorHost director, string? not)
    {
        string? id = null;
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await director.Client.GetAsync("/v1/leader");
                id = response.IsSuccessStatusCode ? ContractJson.Deserialize<LeaderView>(await response.Content.ReadAsByteArrayAsync()).DirectorId : null;
                return id is not null && id != not;
            },
            Deadline,
            () => $"leader {id ?? "none"}");
        return id!;
    }
}

/// <summary>The watchdog on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperWatchdogTests(ZooKeeperFixture fixture) : WatchdogTests
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}

/// <summary>The watchdog on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdWatchdogTests(EtcdFixture fixture) : WatchdogTests
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;
}
