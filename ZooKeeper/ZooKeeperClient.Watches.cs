using System.Runtime.CompilerServices;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>Adds a persistent watch (ZooKeeper 3.6+ addWatch) on <paramref name="path"/>, which need not exist.
    /// Unlike one-shot watches it stays after firing, so no change is missed between events. Dispose the
    /// returned watch to remove it.</summary>
    public async Task<PersistentWatch> AddWatchAsync(string path, AddWatchMode mode, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown watch mode.");
        var watch = new PersistentWatch(path, mode, _options.WatchEventCapacity, RemovePersistentAsync);
        var writer = JuteWriter.ForRequest(OpCode.AddWatch, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteInt((int)mode);
        var kind = mode == AddWatchMode.Persistent ? WatchKind.Persistent : WatchKind.PersistentRecursive;
        // Registered by the read loop when the reply arrives, so no event after the reply can be missed.
        var request = new PendingReply<bool>(OpCode.AddWatch, path, ReplyParsers.None) { Watch = new WatchRegistration(kind, path, watch) };
        await Submit(ref writer, request, cancellationToken).ConfigureAwait(false);
        return watch;
    }

    /// <summary>Streams the events of a persistent watch on <paramref name="path"/> until
    /// <paramref name="cancellationToken"/> fires (the watch is then removed), the session expires
    /// (<see cref="SessionExpiredException"/>) or the client closes.</summary>
    public IAsyncEnumerable<WatchedEvent> WatchAsync(string path, AddWatchMode mode, CancellationToken cancellationToken = default)
    {
        // Validate now, not at the first MoveNextAsync.
        PathValidation.Validate(path, nameof(path));
        return Stream(path, mode, cancellationToken);

        async IAsyncEnumerable<WatchedEvent> Stream(string p, AddWatchMode m, [EnumeratorCancellation] CancellationToken ct = default)
        {
            var watch = await AddWatchAsync(p, m, ct).ConfigureAwait(false);
            await using (watch.ConfigureAwait(false))
            {
                await foreach (var e in watch.ReadAllAsync(ct).ConfigureAwait(false))
                    yield return e;
            }
        }
    }

    /// <summary>Removes this session's watches of <paramref name="type"/> on <paramref name="path"/>, locally and on
    /// the server. One-shot watches complete with a *WatchRemoved event; persistent watch streams end.</summary>
    /// <exception cref="NoWatcherException">Neither this client nor the server had such a watch.</exception>
    public async Task RemoveWatchesAsync(string path, WatcherType type, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path));
        if (!Enum.IsDefined(type))
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown watcher type.");
        var hadLocal = _watches.Remove(type, path);
        try
        {
            await SendRemoveWatches(path, type, cancellationToken).ConfigureAwait(false);
        }
        catch (NoWatcherException) when (hadLocal)
        {
            // The server's one-shot watch already fired (or was never set because the node was missing).
        }
    }

    private Task SendRemoveWatches(string path, WatcherType type, CancellationToken cancellationToken)
    {
        var writer = JuteWriter.ForRequest(OpCode.RemoveWatches, 8 + path.Length * 3);
        writer.WriteString(ToServerPath(path));
        writer.WriteInt((int)type);
        return Submit(ref writer, new PendingReply<bool>(OpCode.RemoveWatches, path, ReplyParsers.None), cancellationToken);
    }

    private async ValueTask RemovePersistentAsync(PersistentWatch watch)
    {
        // The 3.8 server removes persistent watches only with type Any, which would also drop other watches
        // this session has on the path: then leave the server's watch; its events find no local watcher.
        if (!_watches.RemovePersistent(watch) || _watches.HasAny(watch.Path) || State != ConnectionState.Connected)
            return;
        try
        {
            await SendRemoveWatches(watch.Path, WatcherType.Any, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ZooKeeperException)
        {
            // Best effort: the server forgets the watch with the connection or session anyway, and events
            // for a path without local watchers are dropped.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
