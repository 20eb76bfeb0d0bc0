using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ControlPlane.ZooKeeper;

/// <summary>A persistent (optionally recursive) watch added by <see cref="ZooKeeperClient.AddWatchAsync"/>.
/// Events arrive in server order through a bounded channel, so a slow reader never blocks the connection:
/// when the reader falls <see cref="ZooKeeperClientOptions.WatchEventCapacity"/> events behind, the stream
/// ends with <see cref="WatchOverflowException"/>. The watch survives reconnects, but the server does not replay
/// changes made while the client was disconnected: after each reconnect the stream carries one event of type
/// <see cref="WatchEventType.None"/>, the cue to re-read what you track. The stream ends with
/// <see cref="SessionExpiredException"/> on expiry and normally on close or dispose.</summary>
public sealed class PersistentWatch : IAsyncDisposable
{
    private readonly Channel<WatchedEvent> _events;
    private readonly Func<PersistentWatch, ValueTask> _remove;
    private int _disposed;

    internal PersistentWatch(string path, AddWatchMode mode, int capacity, Func<PersistentWatch, ValueTask> remove)
    {
        Path = path;
        Mode = mode;
        _remove = remove;
        // One writer (the connection's read loop); Wait mode makes TryWrite fail when full instead of dropping.
        _events = Channel.CreateBounded<WatchedEvent>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The watched path (relative to the chroot).</summary>
    public string Path { get; }

    /// <summary>Persistent or persistent-recursive.</summary>
    public AddWatchMode Mode { get; }

    /// <summary>The events, in order. Completes as described on the class.</summary>
    public ChannelReader<WatchedEvent> Events => _events.Reader;

    /// <summary>Reads the events until the watch ends or <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<WatchedEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return e;
    }

    /// <summary>Stops the watch: removes it locally and, if it was the last one of its kind on the path,
    /// on the server. Never throws for connection problems (the server drops it with the session anyway).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return ValueTask.CompletedTask;
        _events.Writer.TryComplete();
        return _remove(this);
    }

    /// <summary>Called by the read loop; false when the reader fell behind (the watch is then ended).</summary>
    internal bool TryDeliver(WatchedEvent e)
    {
        // A disposed watch may still be in the registry for a moment: drop quietly, it is not an overflow.
        if (_events.Writer.TryWrite(e) || Volatile.Read(ref _disposed) != 0)
            return true;
        _events.Writer.TryComplete(new WatchOverflowException(Path));
        return false;
    }

    internal void End(Exception? error) => _events.Writer.TryComplete(error);
}
