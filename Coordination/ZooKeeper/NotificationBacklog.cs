using System.Threading.Channels;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>
/// Takes a persistent watch's notifications off the client's bounded queue as they arrive, on a task of its own,
/// and keeps what they ask for: the distinct paths to read, in the order of their first notification since they
/// were last taken, or a resync.
/// </summary>
/// <remarks>
/// <para>Why: the client ends a watch whose reader falls <see cref="ZooKeeperClientOptions.WatchEventCapacity"/>
/// events behind, and the watch's owner is often busy for longer than that while a burst goes on: reading a batch,
/// waiting for its consumer, or re-reading the whole subtree, which takes longer the larger the tree, and was itself
/// overflowed by the changes made meanwhile, again and again. Taking notifications off as they come costs a hash
/// lookup each, and since a read gives a node's latest state, a path notified again before it is read is read once:
/// the backlog holds at most one entry per key, however long the burst. Past <c>limit</c> entries it is dropped and a
/// resync asked for instead (the re-read then costs less than the reads it replaces).</para>
/// <para>Control events: a reconnect (type None: changes made while away were not notified) asks for a resync; the
/// server removing the watch ends it. A resync covers every path notified before it starts, so asking for one
/// drops the backlog, and notifications that come before it starts are not kept.</para>
/// <para>Thread-safety: the pump and the owner share one lock; the owner is a single caller.</para>
/// </remarks>
internal sealed class NotificationBacklog
{
    private readonly ChannelReader<WatchedEvent> _events;
    private readonly Func<string, bool> _relevant;
    private readonly int _limit;
    private readonly Lock _lock = new();
    private readonly Queue<string> _paths = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    // Entries ever added and ever taken (or dropped): the entry at the head is number _taken.
    private long _added;
    private long _taken;
    private string? _resync;
    private BacklogEnd? _ended;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts draining <paramref name="events"/> until it completes.</summary>
    /// <param name="events">The watch's notifications.</param>
    /// <param name="relevant">Whether a notified path is one to read (the watch's subtree).</param>
    /// <param name="limit">Most distinct paths kept before a resync is asked for instead.</param>
    public NotificationBacklog(ChannelReader<WatchedEvent> events, Func<string, bool> relevant, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _events = events;
        _relevant = relevant;
        _limit = limit;
        Pump = Task.Run(PumpAsync);
    }

    /// <summary>The draining task: completes once the events do (never faults).</summary>
    public Task Pump { get; }

    /// <summary>Completes at the next change of what the backlog holds; take it before looking at the state.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Why a resync is asked for, or null.</summary>
    public string? ResyncReason
    {
        get
        {
            lock (_lock)
            {
                return _resync;
            }
        }
    }

    /// <summary>How the events ended (their error, null when they completed without one, and why), or null while
    /// they go on. What the backlog holds is then incomplete: the watch must be added again and the subtree re-read.</summary>
    public BacklogEnd? Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>How many distinct paths wait to be read.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _paths.Count;
            }
        }
    }

    /// <summary>A resync starts now: it covers everything notified so far, so the backlog and any request for a
    /// resync are dropped; what is notified from now on is kept.</summary>
    public void BeginResync()
    {
        lock (_lock)
        {
            _resync = null;
            DropLocked();
        }
    }

    /// <summary>Takes up to <paramref name="max"/> paths, oldest first, among the entries numbered below
    /// <paramref name="before"/> (see <see cref="Mark"/>).</summary>
    public List<string> Take(int max, long before = long.MaxValue)
    {
        lock (_lock)
        {
            var count = (int)Math.Min(Math.Min(max, _paths.Count), Math.Max(0, before - _taken));
            var taken = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                var path = _paths.Dequeue();
                _queued.Remove(path);
                taken.Add(path);
            }

            _taken += count;
            return taken;
        }
    }

    /// <summary>
    /// Takes in every notification the client has queued so far and returns the number of the next entry: every path
    /// notified before this call is in an entry numbered below it, or was taken already. Null when the events have
    /// ended: what came before may be incomplete.
    /// </summary>
    /// <remarks>For a progress report: after a <c>sync</c> on the watch's connection has answered, every notification
    /// the server owed is in the client's queue, and taking the entries below the mark handles all of them.</remarks>
    public long? Mark()
    {
        lock (_lock)
        {
            DrainLocked();
            // The channel completes once it is empty and its writer has completed: an overflow or an end, maybe after
            // the notifications the mark must cover.
            return _ended is null && !_events.Completion.IsCompleted ? _added : null;
        }
    }

    private async Task PumpAsync()
    {
        BacklogEnd end;
        try
        {
            // Until the watch ends: its owner disposes it when done, which completes the events.
            while (await _events.WaitToReadAsync().ConfigureAwait(false))
            {
                lock (_lock)
                {
                    DrainLocked();
                }

                Signal();
            }

            end = new BacklogEnd(null, "the watch ended");
        }
        catch (Exception ex)
        {
            // The client's reason: overflow, session expired, closed.
            end = new BacklogEnd(ex, ex.Message);
        }

        lock (_lock)
        {
            _ended ??= end;
        }

        Signal();
    }

    /// <summary>Takes in what the channel holds now (not what arrives meanwhile, so the lock is held for a bounded time).</summary>
    private void DrainLocked()
    {
        var available = _events.CanCount ? _events.Count : 4096;
        for (var i = 0; i < available && _events.TryRead(out var notification); i++)
        {
            Absorb(notification);
        }
    }

    private void Absorb(WatchedEvent notification)
    {
        switch (notification.Type)
        {
            case WatchEventType.NodeCreated or WatchEventType.NodeDataChanged or WatchEventType.NodeDeleted:
                if (_resync is null && _ended is null && _relevant(notification.Path) && _queued.Add(notification.Path))
                {
                    _paths.Enqueue(notification.Path);
                    _added++;
                    if (_paths.Count > _limit)
                    {
                        RequestResyncLocked($"more than {_limit:N0} changed keys wait to be read (WatchBacklogLimit)");
                    }
                }

                return;
            case WatchEventType.None:
                RequestResyncLocked("the client reconnected, and changes made while it was away were not notified");
                return;
            case WatchEventType.PersistentWatchRemoved:
                _ended ??= new BacklogEnd(null, "the server removed the watch");
                DropLocked();
                return;
            default:
                return;
        }
    }

    private void RequestResyncLocked(string reason)
    {
        _resync ??= reason;
        DropLocked();
    }

    private void DropLocked()
    {
        _paths.Clear();
        _queued.Clear();
        _taken = _added;
    }

    private void Signal()
    {
        TaskCompletionSource fired;
        lock (_lock)
        {
            fired = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        fired.TrySetResult();
    }
}

/// <summary>How a watch's events ended.</summary>
/// <param name="Error">The client's error (overflow, session expired), or null when they completed without one.</param>
/// <param name="Reason">Why, for the log.</param>
internal sealed record BacklogEnd(Exception? Error, string Reason);
