using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>
/// One subtree watch of a <see cref="ZooKeeperCoordinationStore"/>: a persistent-recursive watch whose
/// notifications are turned into ordered <see cref="WatchUpdate"/>s by reading each notified node.
/// </summary>
/// <remarks>
/// <para>ZooKeeper notifications carry neither data nor zxid, so a batch cannot name the revision it brings the
/// consumer to. Change batches therefore repeat the last revision that is <em>proven</em> complete, and only two
/// things advance it: a resync (its listing starts after a sync, at a zxid every later change is notified
/// after) and a progress report (a sync on the watch's own connection: the server sends its reply after every
/// notification it owes, so once the reply is in, draining the queue delivers everything up to it).</para>
/// <para>After a reconnect a persistent watch does not report what changed while the client was away (the
/// client signals it with an event of type None), and a new session has no watch at all: both lead to a resync.</para>
/// </remarks>
internal sealed class SubtreeWatch(ZooKeeperCoordinationStore store, string prefix) : IAsyncDisposable
{
    private readonly string _path = store.PathOf(prefix);
    private readonly Queue<WatchUpdate> _pending = new();
    // The ModRevision last reported per key since the last resync: re-reads of a node that did not change again
    // (one change can be notified more than once) are not reported twice.
    private readonly Dictionary<string, long> _known = new(StringComparer.Ordinal);
    private ZooKeeperClient? _client;
    private PersistentWatch? _watch;
    private long _handledProgress = store.ProgressRequests;
    private long _safeRevision;
    private int _failures;

    /// <summary>The next update; restarts (with a resync) across reconnects and new sessions by itself.</summary>
    public async Task<WatchUpdate> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_pending.TryDequeue(out var pending))
            {
                return pending;
            }

            try
            {
                if (_watch is null)
                {
                    await StartAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var progress = store.ProgressSignal;
                var requested = store.ProgressRequests;
                if (requested != _handledProgress)
                {
                    _handledProgress = requested;
                    await ReportProgressAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (_watch.Events.TryRead(out var notification))
                {
                    await HandleAsync(notification, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var readable = _watch.Events.WaitToReadAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(readable, progress).ConfigureAwait(false) == readable && !await readable.ConfigureAwait(false))
                {
                    // The client ended the watch (session expired or closed): follow on the next session.
                    await RestartAsync("the watch ended").ConfigureAwait(false);
                }
            }
            catch (WatchOverflowException ex)
            {
                // The consumer fell too far behind the notifications: start over from a fresh listing.
                await RestartAsync(ex.Message).ConfigureAwait(false);
            }
            catch (ZooKeeperException ex)
            {
                await RestartAsync(ex.Message).ConfigureAwait(false);
                await store.WaitForContactAsync(cancellationToken).ConfigureAwait(false);
                // Bounded, jittered pause so a store that answers but fails every time is not hammered.
                var pause = TimeSpan.FromMilliseconds(Math.Min(25 << Math.Min(_failures++, 6), 1000) * (0.5 + Random.Shared.NextDouble()));
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        _client = await store.ClientAsync(cancellationToken).ConfigureAwait(false);
        // The watch first, then the listing: every change after the listing's start is notified.
        _watch = await _client.AddWatchAsync(_path, AddWatchMode.PersistentRecursive, cancellationToken).ConfigureAwait(false);
        await ResyncAsync(cancellationToken).ConfigureAwait(false);
        _failures = 0;
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var client = _client!;
        await client.SyncAsync(_path, cancellationToken).ConfigureAwait(false);
        var start = client.LastZxid;
        var items = new List<StoreItem>();
        await store.ReadSubtreeAsync(client, prefix, items, cancellationToken).ConfigureAwait(false);
        items.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        _known.Clear();
        foreach (var item in items)
        {
            _known[item.Key] = item.ModRevision;
        }

        _safeRevision = Math.Max(_safeRevision, start);
        _pending.Clear();
        _pending.Enqueue(new WatchResync(items, _safeRevision));
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        var client = _client!;
        await client.SyncAsync(_path, cancellationToken).ConfigureAwait(false);
        var reached = client.LastZxid;
        // Every notification owed up to the sync is queued now: handle them before claiming the revision.
        while (_watch!.Events.TryRead(out var notification))
        {
            await HandleAsync(notification, cancellationToken).ConfigureAwait(false);
        }

        _safeRevision = Math.Max(_safeRevision, reached);
        _pending.Enqueue(new WatchChanges([], _safeRevision));
    }

    private async Task HandleAsync(WatchedEvent notification, CancellationToken cancellationToken)
    {
        switch (notification.Type)
        {
            case WatchEventType.None:
                // Reconnected: changes made while away were not notified.
                await ResyncAsync(cancellationToken).ConfigureAwait(false);
                return;
            case WatchEventType.PersistentWatchRemoved:
                await RestartAsync("the server removed the watch").ConfigureAwait(false);
                return;
            case WatchEventType.NodeCreated or WatchEventType.NodeDataChanged or WatchEventType.NodeDeleted:
                break;
            default:
                return;
        }

        if (notification.Path != _path && !notification.Path.StartsWith(_path + "/", StringComparison.Ordinal))
        {
            return;
        }

        var key = store.KeyOf(notification.Path);
        var client = _client!;
        var item = await store.ReadItemAsync(client, key, cancellationToken).ConfigureAwait(false);
        if (item is null)
        {
            // Gone when we looked. The delete happened at or before the zxid of that answer.
            if (_known.Remove(key))
            {
                _pending.Enqueue(new WatchChanges([new StoreChange(ChangeKind.Delete, key, null, client.LastZxid)], _safeRevision));
            }

            return;
        }

        if (_known.TryGetValue(key, out var reported) && reported >= item.ModRevision)
        {
            return;
        }

        _known[key] = item.ModRevision;
        _pending.Enqueue(new WatchChanges([new StoreChange(ChangeKind.Put, key, item, item.ModRevision)], _safeRevision));
    }

    private async Task RestartAsync(string reason)
    {
        ZooKeeperStoreLog.WatchRestarting(store.Logger, _path, reason);
        var watch = _watch;
        _watch = null;
        if (watch is not null)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
    }
}
