using ControlPlane.ZooKeeper;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

public class WatchRegistryTests
{
    private readonly WatchRegistry _registry = new();

    [Fact]
    public async Task A_data_change_fires_data_and_exist_watches_once_but_not_child_watches()
    {
        var data = OneShot(WatchKind.Data, "/a");
        var exist = OneShot(WatchKind.Exist, "/a");
        var child = OneShot(WatchKind.Child, "/a");

        _registry.Dispatch(WatchEventType.NodeDataChanged, "/a");
        _registry.Dispatch(WatchEventType.NodeDataChanged, "/a");

        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, "/a"), await data);
        Assert.True(exist.IsCompletedSuccessfully);
        Assert.False(child.IsCompleted);
        Assert.Equal(["/a"], _registry.Snapshot().Child); // the fired ones are gone, the child watch stays
        Assert.Empty(_registry.Snapshot().Data);
    }

    [Fact]
    public void A_deletion_fires_every_one_shot_kind()
    {
        var data = OneShot(WatchKind.Data, "/a");
        var child = OneShot(WatchKind.Child, "/a");
        _registry.Dispatch(WatchEventType.NodeDeleted, "/a");
        Assert.True(data.IsCompletedSuccessfully);
        Assert.True(child.IsCompletedSuccessfully);
        Assert.True(_registry.IsEmpty);
    }

    [Fact]
    public async Task Persistent_watches_stay_and_recursive_ones_see_descendants_but_not_child_list_events()
    {
        var exact = Persistent("/a", AddWatchMode.Persistent);
        var recursive = Persistent("/a", AddWatchMode.PersistentRecursive);

        _registry.Dispatch(WatchEventType.NodeChildrenChanged, "/a");
        _registry.Dispatch(WatchEventType.NodeCreated, "/a/b/c");
        _registry.Dispatch(WatchEventType.NodeDataChanged, "/a");
        _registry.Dispatch(WatchEventType.NodeDataChanged, "/ab"); // a sibling with the same prefix: not below /a

        Assert.Equal([WatchEventType.NodeChildrenChanged, WatchEventType.NodeDataChanged], await Drain(exact, 2));
        Assert.Equal([WatchEventType.NodeCreated, WatchEventType.NodeDataChanged], await Drain(recursive, 2));
        Assert.False(recursive.Events.TryRead(out _));
    }

    [Fact]
    public void A_slow_persistent_reader_ends_with_overflow_instead_of_blocking_the_dispatcher()
    {
        var watch = new PersistentWatch("/a", AddWatchMode.Persistent, 2, _ => ValueTask.CompletedTask);
        _registry.Register(new WatchRegistration(WatchKind.Persistent, "/a", watch));
        PersistentWatch? overflowed = null;
        _registry.Overflowed += w => overflowed = w;

        for (var i = 0; i < 5; i++)
            _registry.Dispatch(WatchEventType.NodeDataChanged, "/a");

        Assert.Same(watch, overflowed);
        Assert.True(_registry.IsEmpty);
        Assert.True(watch.Events.TryRead(out _));
        Assert.True(watch.Events.TryRead(out _));
        Assert.IsType<WatchOverflowException>(watch.Events.Completion.Exception?.InnerException);
    }

    [Fact]
    public async Task Expiry_faults_one_shot_watches_and_ends_persistent_streams_with_the_error()
    {
        var data = OneShot(WatchKind.Data, "/a");
        var watch = Persistent("/a", AddWatchMode.Persistent);

        _registry.EndAll(new SessionExpiredException());

        await Assert.ThrowsAsync<SessionExpiredException>(() => data);
        await Assert.ThrowsAsync<SessionExpiredException>(() => watch.Events.Completion);
    }

    [Fact]
    public async Task Removing_watches_completes_one_shots_with_a_removed_event()
    {
        var data = OneShot(WatchKind.Data, "/a");
        var child = OneShot(WatchKind.Child, "/a");

        Assert.True(_registry.Remove(WatcherType.Children, "/a"));
        Assert.Equal(WatchEventType.ChildWatchRemoved, (await child).Type);
        Assert.False(data.IsCompleted);
        Assert.False(_registry.Remove(WatcherType.Children, "/a"));
    }

    private Task<WatchedEvent> OneShot(WatchKind kind, string path)
    {
        var tcs = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        _registry.Register(new WatchRegistration(kind, path, tcs));
        return tcs.Task;
    }

    private PersistentWatch Persistent(string path, AddWatchMode mode)
    {
        var watch = new PersistentWatch(path, mode, 16, _ => ValueTask.CompletedTask);
        _registry.Register(new WatchRegistration(mode == AddWatchMode.Persistent ? WatchKind.Persistent : WatchKind.PersistentRecursive, path, watch));
        return watch;
    }

    private static async Task<WatchEventType[]> Drain(PersistentWatch watch, int count)
    {
        var types = new WatchEventType[count];
        for (var i = 0; i < count; i++)
            types[i] = (await watch.Events.ReadAsync()).Type;
        return types;
    }
}

public class SetWatchesBatcherTests
{
    [Fact]
    public void Many_watches_are_split_into_frames_under_the_size_limit_without_losing_any()
    {
        var paths = Enumerable.Range(0, 20_000).Select(i => $"/some/fairly/long/path/number/{i:D8}").ToList();
        var frames = SetWatchesBatcher.Batch(7, [.. paths], [], [.. paths.Take(10)], [], ["/r"]).ToList();
        var seen = 0;
        foreach (var (buffer, length) in frames)
        {
            Assert.True(length < SetWatchesBatcher.MaxBatchBytes + 1024, $"frame of {length} bytes");
            var reader = new JuteReader(buffer.AsSpan(4, length - 4));
            Assert.Equal(-8, reader.ReadInt());                          // reserved setWatches xid
            Assert.Equal((int)OpCode.SetWatches2, reader.ReadInt());
            Assert.Equal(7, reader.ReadLong());                          // relativeZxid
            for (var list = 0; list < 5; list++)
                seen += reader.ReadStringList().Count;
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        Assert.True(frames.Count > 1);
        Assert.Equal(20_000 + 10 + 1, seen);
    }
}
