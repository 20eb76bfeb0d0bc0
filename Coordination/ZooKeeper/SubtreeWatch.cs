using System.Diagnostics;
using System.Runtime.ExceptionServices;
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
/// <para>Notifications are taken off the client's queue as they arrive (<see cref="NotificationBacklog"/>), so a burst
/// of changes neither overflows the watch while it reads, waits for its consumer or resyncs, nor costs more than one
/// read per changed key; a resync reads with a bounded window of requests in flight (<see cref="SubtreeReader"/>).
/// A watch that overflows all the same (its draining task starved of a thread for as long as the client's queue
/// lasts) is added again and the subtree re-read.</para>
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
    private NotificationBacklog? _backlog;
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
                if (_backlog is null)
                {
                    await StartAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                // Taken before the state is looked at, so nothing that changes it in between goes unnoticed.
                var changed = _backlog.Changed;
                var progress = store.ProgressSignal;
                if (_backlog.Ended is { } ended)
                {
                    await EndedAsync(ended).ConfigureAwait(false);
                    continue;
                }

                if (_backlog.ResyncReason is { } reason)
                {
                    ZooKeeperStoreLog.WatchResyncing(store.Logger, _path, reason);
                    await ResyncAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var requested = store.ProgressRequests;
                if (requested != _handledProgress)
                {
                    _handledProgress = requested;
                    await ReportProgressAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var paths = _backlog.Take(MaxBatch);
                if (paths.Count > 0)
                {
                    await ReadChangesAsync(paths, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await Task.WhenAny(changed, progress).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (WatchOverflowException ex)
            {
                // The notifications came faster than even the backlog took them: start over from a fresh listing.
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
        await StopWatchAsync().ConfigureAwait(false);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        _client = await store.ClientAsync(cancellationToken, waitForSession: true).ConfigureAwait(false);
        // The watch first, then the listing: every change after the listing's start is notified.
        _watch = await _client.AddWatchAsync(_path, AddWatchMode.PersistentRecursive, cancellationToken).ConfigureAwait(false);
        _backlog = new NotificationBacklog(_watch.Events, InPrefix, store.WatchBacklogLimit);
        await ResyncAsync(cancellationToken).ConfigureAwait(false);
        _restart.Reset();
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var client = _client!;
        // Everything notified so far is covered by the listing; what is notified from here on is read after it.
        _backlog!.BeginResync();
        var started = Stopwatch.GetTimestamp();
        await client.SyncAsync(_path, cancellationToken).ConfigureAwait(false);
        var start = client.LastZxid;
        var items = new List<StoreItem>();
        var requests = await store.ReadSubtreeAsync(client, prefix, items, cancellationToken).ConfigureAwait(false);
        items.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        _known.Clear();
        foreach (var item in items)
        {
            _known[item.Key] = item.ModRevision;
        }

        _safeRevision = Math.Max(_safeRevision, start);
        _pending.Clear();
        _pending.Enqueue(new WatchResync(items, _safeRevision));
        ZooKeeperStoreLog.WatchListed(store.Logger, _path, items.Count, requests, Stopwatch.GetElapsedTime(started).TotalMilliseconds, _backlog.Count);
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        var client = _client!;
        var backlog = _backlog!;
        await client.SyncAsync(_path, cancellationToken).ConfigureAwait(false);
        var reached = client.LastZxid;
        // Every notification owed up to the sync is queued now: handle them before claiming the revision. Only those:
        // under a steady stream of changes the backlog never empties, and reading it to the end would hold the report
        // (and a consumer waiting for it) for as long as the changes go on. Batched like the notifications themselves.
        if (backlog.Mark() is not { } mark)
        {
            return; // The watch ended: nothing can be claimed, the loop restarts it.
        }

        // Bounded: each round takes at least one of the entries below the mark, and none are added below it.
        while (backlog.Ended is null && backlog.ResyncReason is null)
        {
            var paths = backlog.Take(MaxBatch, mark);
            if (paths.Count == 0)
            {
                _safeRevision = Math.Max(_safeRevision, reached);
                _pending.Enqueue(new WatchChanges([], _safeRevision));
                return;
            }

            await ReadChangesAsync(paths, cancellationToken).ConfigureAwait(false);
        }

        // Ended or dropped for a resync before every owed notification was handled: the resync brings the revision.
    }

    /// <summary>Most notified nodes read together.</summary>
    private const int MaxBatch = 256;

    /// <summary>
    /// Reads the nodes of <paramref name="paths"/> (notified, each once) with pipelined requests (the server answers
    /// one session's requests in order, so the cost is one round trip, not one per node), then turns them into
    /// changes in notification order, exactly as one-by-one reads issued back to back would.
    /// </summary>
    private async Task ReadChangesAsync(List<string> paths, CancellationToken cancellationToken)
    {
        var client = _client!;
        var keys = paths.Select(store.KeyOf).ToList();
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
    }

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

    /// <summary>The watch's events ended: the client's error goes the way of any other (a pause when the store
    /// fails), a plain end restarts at once.</summary>
    private async Task EndedAsync(BacklogEnd ended)
    {
        if (ended.Error is ZooKeeperException error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        await RestartAsync(ended.Reason).ConfigureAwait(false);
    }

    private async Task RestartAsync(string reason)
    {
        ZooKeeperStoreLog.WatchRestarting(store.Logger, _path, reason);
        await StopWatchAsync().ConfigureAwait(false);
    }

    private async Task StopWatchAsync()
    {
        var watch = _watch;
        var backlog = _backlog;
        _watch = null;
        _backlog = null;
        if (watch is not null)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }

        if (backlog is not null)
        {
            // Disposing the watch completed its events, which ends the pump.
            await backlog.Pump.ConfigureAwait(false);
        }
    }
}
