using System.Runtime.CompilerServices;
using ControlPlane.Etcd.Internal;

namespace ControlPlane.Etcd;

/// <summary>
/// A watch acknowledged by the server. Read it with <see cref="ReadAllAsync"/> (one reader). It survives stream
/// failures: the client re-creates it on another member from the revision after the last one delivered, so no
/// event is lost or repeated. It ends only when disposed (enumeration completes), when the client is disposed
/// (<see cref="ObjectDisposedException"/>), when history it needs was compacted (<see cref="EtcdCompactedException"/>:
/// re-list, then watch from the list's revision + 1), or when the server cancels it (<see cref="EtcdException"/>).
/// </summary>
public sealed class EtcdWatch : IAsyncDisposable
{
    private readonly WatchMultiplexer _owner;
    private readonly Watcher _watcher;

    internal EtcdWatch(WatchMultiplexer owner, Watcher watcher, long startRevision)
    {
        _owner = owner;
        _watcher = watcher;
        StartRevision = startRevision;
    }

    /// <summary>The first revision this watch reports: the requested start revision, or for a "from now" watch the
    /// revision after the one current at acknowledgement.</summary>
    public long StartRevision { get; }

    /// <summary>The revision the watch would resume from now (after the last delivered event or progress).</summary>
    public long NextRevision => _watcher.NextRevision;

    /// <summary>
    /// Batches in revision order. Buffered in a bounded channel (<see cref="EtcdClientOptions.WatchChannelCapacity"/>);
    /// when it is full the shared stream waits, so read promptly.
    /// </summary>
    /// <param name="cancellationToken">Stops this enumeration (the watch stays; dispose it to stop watching).</param>
    /// <returns>The batches.</returns>
    /// <exception cref="EtcdCompactedException">Needed history was compacted; the watch is over.</exception>
    public async IAsyncEnumerable<EtcdWatchBatch> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = _watcher.Events.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var batch))
            {
                yield return batch;
            }
        }
    }

    /// <summary>Cancels the watch on the server; the enumeration ends after the batches already buffered.</summary>
    /// <returns>A task that completes when the cancel was sent.</returns>
    public async ValueTask DisposeAsync() => await _owner.RemoveAsync(_watcher).ConfigureAwait(false);
}
