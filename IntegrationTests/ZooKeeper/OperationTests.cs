using System.Text;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

[Collection(ZooKeeperCollection.Name)]
public sealed class OperationTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Create_get_set_delete_round_trip_with_versions_and_stat()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));

        var created = await zk.CreateAsync("/n", "v1"u8.ToArray());
        Assert.Equal("/n", created.Path);
        Assert.Equal(0, created.Stat.Version);
        Assert.Equal(2, created.Stat.DataLength);
        Assert.True(zk.LastZxid >= created.Stat.Czxid);

        var read = await zk.GetDataAsync("/n");
        Assert.Equal("v1", Encoding.UTF8.GetString(read.Data));

        var stat = await zk.SetDataAsync("/n", "v2"u8.ToArray(), version: 0);
        Assert.Equal(1, stat.Version);
        await Assert.ThrowsAsync<BadVersionException>(() => zk.SetDataAsync("/n", default, version: 0));

        await Assert.ThrowsAsync<BadVersionException>(() => zk.DeleteAsync("/n", version: 0));
        await zk.DeleteAsync("/n", version: 1);
        Assert.Null(await zk.ExistsAsync("/n"));
    }

    [Fact]
    public async Task Error_paths_throw_typed_exceptions_with_code_and_path()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/p", default);
        await zk.CreateAsync("/p/c", default);
        await zk.CreateAsync("/e", default, CreateMode.Ephemeral);

        var exists = await Assert.ThrowsAsync<NodeExistsException>(() => zk.CreateAsync("/p", default));
        Assert.Equal("/p", exists.Path);
        Assert.Equal(ErrorCode.NodeExists, exists.Code);
        var noParent = await Assert.ThrowsAsync<NoNodeException>(() => zk.CreateAsync("/missing/child", default));
        Assert.Equal("/missing/child", noParent.Path);
        await Assert.ThrowsAsync<NoNodeException>(() => zk.GetDataAsync("/missing"));
        await Assert.ThrowsAsync<NoNodeException>(() => zk.SetDataAsync("/missing", default));
        await Assert.ThrowsAsync<NoNodeException>(() => zk.DeleteAsync("/missing"));
        await Assert.ThrowsAsync<NoNodeException>(() => zk.GetChildrenAsync("/missing"));
        await Assert.ThrowsAsync<NoNodeException>(() => zk.GetAclAsync("/missing"));
        var notEmpty = await Assert.ThrowsAsync<NotEmptyException>(() => zk.DeleteAsync("/p"));
        Assert.Equal("/p", notEmpty.Path);
        await Assert.ThrowsAsync<NoChildrenForEphemeralsException>(() => zk.CreateAsync("/e/child", default));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.GetDataAsync("relative"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/a/", default));
    }

    [Fact]
    public async Task Sequential_nodes_get_increasing_ten_digit_suffixes_from_the_parent_cversion()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/q", default);
        await zk.CreateAsync("/q/plain", default); // bumps cversion: the next suffix is 1

        var first = await zk.CreateAsync("/q/item-", default, CreateMode.PersistentSequential);
        var second = await zk.CreateAsync("/q/item-", default, CreateMode.EphemeralSequential);
        var bare = await zk.CreateAsync("/q/", default, CreateMode.PersistentSequential);

        Assert.Equal("/q/item-0000000001", first.Path);
        Assert.Equal("/q/item-0000000002", second.Path);
        Assert.Equal("/q/0000000003", bare.Path);
        Assert.Equal(zk.SessionId, second.Stat.EphemeralOwner);
        Assert.True(second.Stat.IsEphemeral);
    }

    [Fact]
    public async Task Ephemeral_nodes_vanish_when_the_session_closes()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString);
        await using var observer = await ConnectAsync(servers);
        var owner = await ConnectAsync(servers);
        var node = await owner.CreateAsync("/eph", default, CreateMode.Ephemeral);
        Assert.Equal(owner.SessionId, node.Stat.EphemeralOwner);

        await owner.CloseAsync();

        Assert.Null(await observer.ExistsAsync("/eph")); // closeSession removes them at once
        Assert.Equal(ConnectionState.Closed, owner.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => owner.ExistsAsync("/"));
    }

    [Fact]
    public async Task Closing_is_idempotent_and_ends_watches_and_later_calls()
    {
        var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var watch = await zk.ExistsAndWatchAsync("/never");
        var persistent = await zk.AddWatchAsync("/", ControlPlane.ZooKeeper.AddWatchMode.PersistentRecursive);

        await zk.CloseAsync();
        await zk.CloseAsync();
        await zk.DisposeAsync();
        await persistent.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch.Changed);
        await persistent.Events.Completion; // ends normally on close
        await Assert.ThrowsAsync<ObjectDisposedException>(() => zk.CreateAsync("/x", default));
        Assert.Equal(TimeSpan.Zero, zk.ProvablyAliveFor);
    }

    [Fact]
    public async Task Container_nodes_are_created_with_create_container_and_hold_children()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var container = await zk.CreateAsync("/box", default, CreateMode.Container);
        Assert.Equal("/box", container.Path);
        Assert.False(container.Stat.IsEphemeral); // the server hides the container marker (owner 0)

        // The server's container manager deletes empty containers only on its own schedule (default one
        // minute), too slow for a unit of test time: assert the node behaves as a parent instead.
        await zk.CreateAsync("/box/item", default);
        await Assert.ThrowsAsync<NotEmptyException>(() => zk.DeleteAsync("/box"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/box/", default, CreateMode.Container));
    }

    [Fact]
    public async Task Ttl_nodes_are_created_with_create_ttl_and_a_ttl_is_required()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var ttl = await zk.CreateAsync("/ttl", "x"u8.ToArray(), CreateMode.PersistentWithTtl, ttl: TimeSpan.FromMinutes(5));
        var seq = await zk.CreateAsync("/ttl-", default, CreateMode.PersistentSequentialWithTtl, ttl: TimeSpan.FromMinutes(5));

        Assert.Equal("/ttl", ttl.Path);
        Assert.Matches("^/ttl-[0-9]{10}$", seq.Path);
        Assert.NotNull(await zk.ExistsAsync("/ttl"));
        Assert.Throws<ArgumentException>(() => { _ = zk.CreateAsync("/t2", default, CreateMode.PersistentWithTtl); });
        Assert.Throws<ArgumentException>(() => { _ = zk.CreateAsync("/t3", default, CreateMode.Persistent, ttl: TimeSpan.FromSeconds(1)); });
    }

    [Fact]
    public async Task Get_children_returns_names_and_the_parent_stat()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/d", default);
        foreach (var name in new[] { "a", "b", "c" })
            await zk.CreateAsync("/d/" + name, default);

        var children = await zk.GetChildrenAsync("/d");

        Assert.Equal(["a", "b", "c"], children.Children.Order(StringComparer.Ordinal));
        Assert.Equal(3, children.Stat.NumChildren);
        Assert.Equal(3, children.Stat.Cversion);
    }

    [Fact]
    public async Task A_chroot_makes_paths_relative_in_requests_results_and_events()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString, "chroot");
        var chroot = servers[servers.IndexOf('/', StringComparison.Ordinal)..];
        await using var rooted = await ConnectAsync(servers);
        await using var plain = await ConnectAsync(fixture.ConnectionString);

        var watch = await rooted.ExistsAndWatchAsync("/x");
        var created = await rooted.CreateAsync("/x-", default, CreateMode.PersistentSequential);

        Assert.StartsWith("/x-", created.Path, StringComparison.Ordinal);
        Assert.NotNull(await plain.ExistsAsync(chroot + created.Path));
        Assert.Equal(chroot, rooted.Chroot);
        Assert.Contains(created.Path[1..], (await rooted.GetChildrenAsync("/")).Children);
        await plain.CreateAsync(chroot + "/x", default);
        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, "/x"), await Eventually.WithinAsync(watch.Changed, Deadline, "exists watch"));
    }

    [Fact]
    public async Task Sync_returns_once_the_server_caught_up()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.SyncAsync("/");
        await zk.SyncAsync();
    }

    [Fact]
    public async Task Many_pipelined_requests_complete_in_order_on_one_connection()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var creates = Enumerable.Range(0, 500).Select(i => zk.CreateAsync($"/n{i}", BitConverter.GetBytes(i))).ToArray();
        await Task.WhenAll(creates);
        var reads = Enumerable.Range(0, 500).Select(i => zk.GetDataAsync($"/n{i}")).ToArray();
        var results = await Task.WhenAll(reads);

        for (var i = 0; i < results.Length; i++)
            Assert.Equal(i, BitConverter.ToInt32(results[i].Data));
        var czxids = creates.Select(c => c.Result.Stat.Czxid).ToArray();
        Assert.Equal(czxids.Order(), czxids); // applied in send order
    }

    [Fact]
    public async Task A_canceled_request_throws_operation_canceled_and_the_connection_keeps_working()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => zk.GetDataAsync("/", cts.Token));
        Assert.NotNull(await zk.ExistsAsync("/"));
    }

    [Fact]
    public async Task The_negotiated_timeout_is_exposed_when_the_server_clamps_the_request()
    {
        var logs = new CapturingLoggerFactory();
        // The fixture's tickTime is 200 ms: sessions are clamped to [0.4 s, 4 s].
        await using var zk = await ConnectAsync(fixture.ConnectionString, o => o.SessionTimeout = TimeSpan.FromSeconds(60), logs);

        Assert.Equal(TimeSpan.FromSeconds(4), zk.NegotiatedSessionTimeout);
        Assert.Contains(logs.Messages, m => m.StartsWith("TimeoutNegotiated", StringComparison.Ordinal));
        Assert.NotEqual(0, zk.SessionId);
    }
}
