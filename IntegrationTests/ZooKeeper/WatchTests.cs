using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

[Collection(ZooKeeperCollection.Name)]
public sealed class WatchTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task A_one_shot_data_watch_fires_once_for_the_first_change_only()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/n", default);
        var read = await zk.GetDataAndWatchAsync("/n");
        Assert.False(read.Changed.IsCompleted);

        await zk.SetDataAsync("/n", "1"u8.ToArray());
        await zk.SetDataAsync("/n", "2"u8.ToArray());

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, "/n"), await Eventually.WithinAsync(read.Changed, Deadline, "data watch"));
        // A fresh watch sees only what happens after it: the second change is not replayed to it.
        var again = await zk.GetDataAndWatchAsync("/n");
        Assert.Equal("2"u8.ToArray(), again.Value.Data);
        await zk.DeleteAsync("/n");
        Assert.Equal(WatchEventType.NodeDeleted, (await Eventually.WithinAsync(again.Changed, Deadline, "delete watch")).Type);
    }

    [Fact]
    public async Task An_exists_watch_on_a_missing_node_fires_when_it_is_created()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var missing = await zk.ExistsAndWatchAsync("/later");
        Assert.Null(missing.Value);

        await zk.CreateAsync("/later", default);

        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, "/later"), await Eventually.WithinAsync(missing.Changed, Deadline, "exists watch"));
    }

    [Fact]
    public async Task A_child_watch_fires_on_a_new_child_but_not_on_a_child_data_change()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/p", default);
        await zk.CreateAsync("/p/a", default);
        var children = await zk.GetChildrenAndWatchAsync("/p");

        await zk.SetDataAsync("/p/a", "x"u8.ToArray());
        await zk.SyncAsync("/p");
        Assert.False(children.Changed.IsCompleted);
        await zk.CreateAsync("/p/b", default);

        Assert.Equal(new WatchedEvent(WatchEventType.NodeChildrenChanged, "/p"), await Eventually.WithinAsync(children.Changed, Deadline, "child watch"));
    }

    [Fact]
    public async Task A_persistent_watch_reports_every_change_of_the_node_in_order()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await using var watch = await zk.AddWatchAsync("/n", AddWatchMode.Persistent);

        await zk.CreateAsync("/n", default);
        await zk.SetDataAsync("/n", "1"u8.ToArray());
        await zk.SetDataAsync("/n", "2"u8.ToArray());
        await zk.CreateAsync("/n/child", default);
        await zk.SetDataAsync("/n/child", "ignored"u8.ToArray()); // not the node itself
        await zk.DeleteAsync("/n/child");
        await zk.DeleteAsync("/n");

        Assert.Equal(
            [WatchEventType.NodeCreated, WatchEventType.NodeDataChanged, WatchEventType.NodeDataChanged,
             WatchEventType.NodeChildrenChanged, WatchEventType.NodeChildrenChanged, WatchEventType.NodeDeleted],
            await ReadTypes(watch, 6));
    }

    [Fact]
    public async Task A_recursive_watch_reports_the_whole_subtree_through_an_async_stream()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/tree", default);
        using var stop = new CancellationTokenSource(Deadline);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<WatchedEvent>();
        var last = new WatchedEvent(WatchEventType.NodeDeleted, "/tree/a/b");
        var reader = Task.Run(async () =>
        {
            await foreach (var e in zk.WatchAsync("/tree", AddWatchMode.PersistentRecursive, stop.Token))
            {
                seen.Enqueue(e);
                if (e == last)
                    return;
            }
        });
        // The stream registers its watch asynchronously: poke /tree itself until an event shows the server has it.
        await Eventually.UntilAsync(async () =>
        {
            await zk.SetDataAsync("/tree", "ping"u8.ToArray());
            return !seen.IsEmpty;
        }, Deadline);

        await zk.CreateAsync("/tree/a", default);
        await zk.CreateAsync("/tree/a/b", default);
        await zk.SetDataAsync("/tree/a/b", "x"u8.ToArray());
        await zk.DeleteAsync("/tree/a/b");
        await Eventually.WithinAsync(reader, Deadline, "four subtree events");

        // The pokes of /tree may still be arriving; everything below it must come exactly once, in order.
        Assert.Equal(
            [new(WatchEventType.NodeCreated, "/tree/a"), new(WatchEventType.NodeCreated, "/tree/a/b"),
             new(WatchEventType.NodeDataChanged, "/tree/a/b"), last],
            seen.Where(e => e.Path != "/tree"));
    }

    [Fact]
    public async Task Disposing_a_persistent_watch_stops_its_events()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/n", default);
        var first = await zk.AddWatchAsync("/n", AddWatchMode.Persistent);
        await using var second = await zk.AddWatchAsync("/n", AddWatchMode.Persistent);

        await first.DisposeAsync();
        await zk.SetDataAsync("/n", "x"u8.ToArray());

        Assert.Equal([WatchEventType.NodeDataChanged], await ReadTypes(second, 1));
        Assert.True(first.Events.Completion.IsCompleted);
        Assert.False(first.Events.TryRead(out _));
    }

    [Fact]
    public async Task Remove_watches_removes_them_locally_and_on_the_server()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/n", default);
        var data = await zk.GetDataAndWatchAsync("/n");
        var children = await zk.GetChildrenAndWatchAsync("/n");

        await zk.RemoveWatchesAsync("/n", WatcherType.Data);

        Assert.Equal(WatchEventType.DataWatchRemoved, (await data.Changed).Type);
        Assert.False(children.Changed.IsCompleted);
        await Assert.ThrowsAsync<NoWatcherException>(() => zk.RemoveWatchesAsync("/n", WatcherType.Data));
        await zk.RemoveWatchesAsync("/n", WatcherType.Any);
        Assert.Equal(WatchEventType.ChildWatchRemoved, (await children.Changed).Type);
    }

    [Fact]
    public async Task One_shot_watches_fire_for_changes_made_while_the_client_was_disconnected()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString);
        var chroot = servers[servers.IndexOf('/', StringComparison.Ordinal)..];
        await using var writer = await ConnectAsync(servers);
        await writer.CreateAsync("/data", default);
        await writer.CreateAsync("/kids", default);
        await writer.CreateAsync("/doomed", default);
        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var zk = await ConnectAsync(proxy.Address + chroot, o => o.SessionTimeout = TimeSpan.FromSeconds(4));
        var data = await zk.GetDataAndWatchAsync("/data");
        var kids = await zk.GetChildrenAndWatchAsync("/kids");
        var created = await zk.ExistsAndWatchAsync("/new");
        // An exists watch on a node that exists: the server holds it as a data watch, so after a reconnect it
        // must be re-sent as one, or a deletion made while away would never be reported.
        var deleted = await zk.ExistsAndWatchAsync("/doomed");
        Assert.NotNull(deleted.Value);
        await using var persistent = await zk.AddWatchAsync("/data", AddWatchMode.Persistent);

        // Cut the client off, change everything it watches, then let it back in.
        proxy.RejectNew = true;
        proxy.CutAll();
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Suspended, Deadline, () => $"state {zk.State}");
        await writer.SetDataAsync("/data", "changed"u8.ToArray());
        await writer.CreateAsync("/kids/k", default);
        await writer.CreateAsync("/new", default);
        await writer.DeleteAsync("/doomed");
        Assert.False(data.Changed.IsCompleted);
        proxy.RejectNew = false;

        Assert.Equal(WatchEventType.NodeDataChanged, (await Eventually.WithinAsync(data.Changed, Deadline, "data watch after reconnect")).Type);
        Assert.Equal(WatchEventType.NodeChildrenChanged, (await Eventually.WithinAsync(kids.Changed, Deadline, "child watch after reconnect")).Type);
        Assert.Equal(WatchEventType.NodeCreated, (await Eventually.WithinAsync(created.Changed, Deadline, "exists watch after reconnect")).Type);
        Assert.Equal(WatchEventType.NodeDeleted, (await Eventually.WithinAsync(deleted.Changed, Deadline, "exists watch of a deleted node after reconnect")).Type);
        // The persistent watch is told to resync (the server does not replay for it), then works as before.
        Assert.Equal([WatchEventType.None], await ReadTypes(persistent, 1));
        await writer.SetDataAsync("/data", "again"u8.ToArray());
        Assert.Equal([WatchEventType.NodeDataChanged], await ReadTypes(persistent, 1));
    }

    private static async Task<WatchEventType[]> ReadTypes(PersistentWatch watch, int count)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var types = new WatchEventType[count];
        for (var i = 0; i < count; i++)
            types[i] = (await watch.Events.ReadAsync(cts.Token)).Type;
        return types;
    }
}
