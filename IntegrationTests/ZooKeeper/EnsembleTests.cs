using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

/// <summary>Runs the ensemble tests alone: three JVMs restarting on a 2-core machine next to other tests
/// would turn their timing (elections, session timeouts) into noise.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ZooKeeperEnsembleCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "zookeeper-ensembles";
}

/// <summary>Failover against real 3-member ensembles (each test starts its own, since it kills members).</summary>
[Collection(ZooKeeperEnsembleCollection.Name)]
public sealed class EnsembleTests
{
    private static readonly ZooKeeperServerOptions LongSessions = new() { MaxSessionTimeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Killing_the_connected_server_moves_the_session_to_another_member_with_ephemerals_and_watches()
    {
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(3, LongSessions);
        var servers = await NewChrootAsync(ensemble.ConnectionString);
        var chroot = servers[servers.IndexOf('/', StringComparison.Ordinal)..];
        await using var zk = await ConnectAsync(servers, o => o.SessionTimeout = TimeSpan.FromSeconds(10));
        await using var states = new StateRecorder(zk);
        var session = zk.SessionId;
        await zk.CreateAsync("/eph", default, CreateMode.Ephemeral);
        await zk.CreateAsync("/watched", default);
        await zk.CreateAsync("/kids", default);
        await zk.CreateAsync("/ryw", "before-kill"u8.ToArray());
        var seenZxid = zk.LastZxid;
        var data = await zk.GetDataAndWatchAsync("/watched");
        var kids = await zk.GetChildrenAndWatchAsync("/kids");
        var before = zk.ConnectedServer!;
        var victim = ensemble.Members.Single(m => m.ClientAddress == before).Index;

        // Freeze first so requests are certainly in flight, unanswered, when the process dies.
        ensemble.FreezeMember(victim);
        var pending = Enumerable.Range(0, 20).Select(_ => zk.GetDataAsync("/watched")).ToArray();
        await ensemble.KillAsync(victim);
        foreach (var request in pending)
            await Assert.ThrowsAsync<ConnectionLossException>(() => Eventually.WithinAsync(request, Deadline, "failure of a pending request"));

        // Change what the client watches through the surviving members while it is (likely) still away.
        var survivors = string.Join(',', ensemble.Members.Where(m => m.Index != victim).Select(m => m.ClientAddress));
        await using var other = await ConnectAsync(survivors + chroot, o => o.ConnectTimeout = Deadline);
        await Eventually.UntilAsync(async () =>
        {
            await other.SetDataAsync("/watched", "changed"u8.ToArray());
            return true;
        }, Deadline);
        await other.CreateAsync("/kids/k", default);

        Assert.Equal(WatchEventType.NodeDataChanged, (await Eventually.WithinAsync(data.Changed, Deadline, "data watch across failover")).Type);
        Assert.Equal(WatchEventType.NodeChildrenChanged, (await Eventually.WithinAsync(kids.Changed, Deadline, "child watch across failover")).Type);
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Connected, Deadline, () => states.ToString());
        Assert.Equal(session, zk.SessionId);
        Assert.NotEqual(before, zk.ConnectedServer);
        Assert.Equal(session, (await other.ExistsAsync("/eph"))!.EphemeralOwner);
        Assert.Equal("before-kill"u8.ToArray(), (await zk.GetDataAsync("/ryw")).Data);
        Assert.True(zk.LastZxid >= seenZxid);
        Assert.Equal(0, states.Count(ConnectionState.Expired));
    }

    [Fact]
    public async Task A_client_that_saw_zxid_z_never_reads_older_state_from_a_lagging_member()
    {
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(3, LongSessions);
        var servers = await NewChrootAsync(ensemble.ConnectionString);
        var chroot = servers[servers.IndexOf('/', StringComparison.Ordinal)..];
        var lagging = await FindFollowerAsync(ensemble);
        var healthy = ensemble.Members.First(m => m.Index != lagging).Index;
        await using var toHealthy = TcpProxy.Start(ensemble.Members[healthy].ClientAddress);
        await using var toLagging = TcpProxy.Start(ensemble.Members[lagging].ClientAddress);
        toLagging.RejectNew = true; // first connect through the healthy member
        await using var zk = await ConnectAsync($"{toHealthy.Address},{toLagging.Address}{chroot}", o => o.SessionTimeout = TimeSpan.FromSeconds(10));
        await zk.CreateAsync("/v", "0"u8.ToArray());

        // The frozen follower misses every write below; the client sees their zxids.
        ensemble.FreezeMember(lagging);
        for (var i = 1; i <= 20; i++)
            await zk.SetDataAsync("/v", System.Text.Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var seen = zk.LastZxid;

        // Force the client onto the lagging member and let it run again: it must not serve us older state.
        toHealthy.RejectNew = true;
        toLagging.RejectNew = false;
        toHealthy.CutAll();
        ensemble.ThawMember(lagging);
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Connected && zk.ConnectedServer == toLagging.Address, Deadline,
            () => $"state {zk.State} on {zk.ConnectedServer}");

        var read = await zk.GetDataAsync("/v");
        Assert.Equal("20"u8.ToArray(), read.Data);
        Assert.True(read.Stat.Mzxid <= zk.LastZxid && zk.LastZxid >= seen);
    }

    [Fact]
    public async Task A_whole_ensemble_down_longer_than_the_timeout_expires_the_session_once_and_a_new_one_can_be_opened()
    {
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(3);
        var servers = await NewChrootAsync(ensemble.ConnectionString);
        var zk = await ConnectAsync(servers, o =>
        {
            o.SessionTimeout = TimeSpan.FromSeconds(2);
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
        });
        await using var states = new StateRecorder(zk);
        await zk.CreateAsync("/eph", default, CreateMode.Ephemeral);

        await Task.WhenAll(ensemble.Members.Select(m => ensemble.KillAsync(m.Index)));
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Expired, Deadline, () => states.ToString());
        await Task.WhenAll(ensemble.Members.Select(m => ensemble.StartMemberAsync(m.Index)));

        await using var fresh = await ConnectAsync(servers, o => o.ConnectTimeout = Deadline);
        // The restarted ensemble still knows the old session and expires it after its timeout.
        await Eventually.UntilAsync(async () => await fresh.ExistsAsync("/eph") is null, Deadline);
        await Assert.ThrowsAsync<SessionExpiredException>(() => zk.ExistsAsync("/"));
        await zk.CloseAsync();
        await Eventually.WithinAsync(states.Completed, Deadline, "the end of the state stream");
        Assert.Equal(1, states.Count(ConnectionState.Expired));
        Assert.NotEqual(zk.SessionId, fresh.SessionId);
    }

    private static async Task<int> FindFollowerAsync(ZooKeeperEnsemble ensemble)
    {
        foreach (var member in ensemble.Members)
        {
            if (await ensemble.ModeAsync(member.Index) == "follower")
                return member.Index;
        }

        throw new InvalidOperationException("No follower in the ensemble");
    }
}
