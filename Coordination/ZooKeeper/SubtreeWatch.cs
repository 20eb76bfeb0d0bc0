using ControlPlane.Coordination.Resilience;
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
    private readonly RetryPacer _restart = new(StoreRetries.ZooKeeperRewatch, store.Time);
    private long _safeRevision;

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
                    await HandleBatchAsync(notification, MaxBatch, cancellationToken).ConfigureAwait(false);
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
                // A jittered, growing pause (store.rewatch.zookeeper) so a store that answers but fails every time is
                // not hammered.
                await _restart.PauseAfterAsync(ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _restart.Dispose();
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
        _restart.Reset();
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
        // Every notification owed up to the sync is queued now: handle them before claiming the revision. Only those:
        // under a steady stream of changes the queue never empties, and draining it to the end would hold the report
        // (and a consumer waiting for it) for as long as the changes go on. Batched like the notifications themselves.
        var owed = _watch!.Events.CanCount ? _watch.Events.Count : int.MaxValue;
        while (owed > 0 && _watch.Events.TryRead(out var notification))
        {
            owed -= await HandleBatchAsync(notification, owed, cancellationToken).ConfigureAwait(false);
        }

        _safeRevision = Math.Max(_safeRevision, reached);
        _pending.Enqueue(new WatchChanges([], _safeRevision));
    }

    /// <summary>Most notifications whose nodes are read together.</summary>
    private const int MaxBatch = 256;

    /// <summary>
    /// Handles <paramref name="first"/> and the change notifications already queued behind it (up to
    /// <see cref="MaxBatch"/> and <paramref name="limit"/> in all) as one batch: their nodes are read with pipelined requests (the server answers one
    /// session's requests in order, so the cost is one round trip, not one per node), then turned into changes in
    /// notification order, exactly as one-by-one reads issued back to back would. A control event (reconnect, watch
    /// removed) ends the batch and is handled after it.
    /// </summary>
    /// <returns>How many notifications were taken from the queue, <paramref name="first"/> included.</returns>
    private async Task<int> HandleBatchAsync(WatchedEvent first, int limit, CancellationToken cancellationToken)
    {
        if (!IsChange(first))
        {
            await HandleAsync(first, cancellationToken).ConfigureAwait(false);
            return 1;
        }

        var batch = new List<WatchedEvent> { first };
        WatchedEvent? control = null;
        while (batch.Count < Math.Min(MaxBatch, limit) && _watch!.Events.TryRead(out var next))
        {
            if (!IsChange(next))
            {
                control = next;
                break;
            }

            batch.Add(next);
        }

        var client = _client!;
        var keys = batch.Where(n => InPrefix(n.Path)).Select(n => store.KeyOf(n.Path)).ToList();
        var items = await Task.WhenAll(keys.Select(k => store.ReadItemAsync(client, k, cancellationToken))).ConfigureAwait(false);
        // A node found gone was deleted at or before the last answer's zxid.
        var answeredAt = client.LastZxid;
        var changes = new List<StoreChange>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (ToChange(keys[i], items[i], answeredAt) is { } change)
            {
                changes.Add(change);
            }
        }

        if (changes.Count > 0)
        {
            _pending.Enqueue(new WatchChanges(changes, _safeRevision));
        }

        if (control is not null)
        {
            await HandleAsync(control, cancellationToken).ConfigureAwait(false);
        }

        return batch.Count + (control is null ? 0 : 1);
    }

    private static bool IsChange(WatchedEvent notification) =>
        notification.Type is WatchEventType.NodeCreated or WatchEventType.NodeDataChanged or WatchEventType.NodeDeleted;

    private bool InPrefix(string path) => path == _path || path.StartsWith(_path + "/", StringComparison.Ordinal);

    /// <summary>The change a read of <paramref name="key"/> reports, or null when it tells nothing new.</summary>
    private StoreChange? ToChange(string key, StoreItem? item, long answeredAt)
    {
        if (item is null)
        {
            return _known.Remove(key) ? new StoreChange(ChangeKind.Delete, key, null, answeredAt) : null;
        }

        if (_known.TryGetValue(key, out var reported) && reported >= item.ModRevision)
        {
            return null; // one change can be notified more than once
        }

        _known[key] = item.ModRevision;
        return new StoreChange(ChangeKind.Put, key, item, item.ModRevision);
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

        if (!InPrefix(notification.Path))
        {
            return;
        }

        var key = store.KeyOf(notification.Path);
        var client = _client!;
        var item = await store.ReadItemAsync(client, key, cancellationToken).ConfigureAwait(false);
        if (ToChange(key, item, client.LastZxid) is { } change)
        {
            _pending.Enqueue(new WatchChanges([change], _safeRevision));
        }
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
