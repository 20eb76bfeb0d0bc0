using System.Collections.Immutable;
using ControlPlane.Coordination.Internal;
using ControlPlane.Coordination.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Coordination.Caching;

/// <summary>
/// A local copy of every key under a prefix, fed by <see cref="ICoordinationStore.WatchAsync"/>: it starts with
/// a full listing, applies changes in revision order, replaces its content on every resync (etcd compaction,
/// ZooKeeper reconnect or new session), and knows the revision it reflects.
/// </summary>
/// <remarks>
/// Readers get immutable snapshots: <see cref="Items"/> never changes under them. <see cref="WaitForRevisionAsync"/>
/// gives read-your-writes across processes: after a write at revision R anywhere, waiting for R guarantees the
/// cache shows it. The watch is restarted from the cache's revision if it ever fails, so the cache never stops
/// following the store silently.
/// </remarks>
public sealed class WatchCache : IAsyncDisposable
{
    private readonly ICoordinationStore _store;
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(long Revision, TaskCompletionSource Done)> _waiters = [];
    private readonly Broadcast<WatchUpdate?> _applied = new(null);
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ImmutableSortedDictionary<string, StoreItem> _items = ImmutableSortedDictionary.Create<string, StoreItem>(StringComparer.Ordinal);
    private long _revision;
    private Task _loop = Task.CompletedTask;
    private int _progressRequested;
    private List<StoreChange>? _changeLog;

    /// <summary>Creates a cache of every key under <paramref name="prefix"/>; call <see cref="StartAsync"/>.</summary>
    public WatchCache(ICoordinationStore store, string prefix, ILogger<WatchCache>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        StoreKeys.Validate(prefix, nameof(prefix));
        _store = store;
        _prefix = prefix;
        _logger = logger ?? NullLogger<WatchCache>.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The revision the cache reflects: every change under the prefix up to it has been applied.</summary>
    public long Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    /// <summary>An immutable snapshot of every key under the prefix, ordered by key.</summary>
    public ImmutableSortedDictionary<string, StoreItem> Items
    {
        get
        {
            lock (_lock)
            {
                return _items;
            }
        }
    }

    /// <summary>How many times the content was replaced by a resync (the first listing included).</summary>
    public int Resyncs { get; private set; }

    /// <summary>
    /// Makes the cache keep every change it applies until <see cref="TakeChanges"/> collects it: a lossless delta
    /// stream for a consumer that keeps its own indexed state (the leader). A resync is logged as the puts and
    /// deletes that turn the old content into the new, so the consumer never needs to compare listings itself.
    /// Call before <see cref="StartAsync"/>; the initial listing then arrives as puts.
    /// </summary>
    /// <remarks>The log grows by the changes applied between two <see cref="TakeChanges"/> calls: a consumer that
    /// enables it must collect regularly.</remarks>
    public void EnableChangeLog()
    {
        lock (_lock)
        {
            _changeLog ??= [];
        }
    }

    /// <summary>
    /// Every change applied since the previous call, in order, together with the content they lead to: the two are
    /// taken atomically, so a consumer can check its own state against <c>Items</c> exactly. Effective changes only:
    /// repeated deliveries the cache skipped are not logged.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="EnableChangeLog"/> was not called.</exception>
    public (IReadOnlyList<StoreChange> Changes, ImmutableSortedDictionary<string, StoreItem> Items, long Revision) TakeChanges()
    {
        lock (_lock)
        {
            if (_changeLog is null)
            {
                throw new InvalidOperationException("EnableChangeLog was not called on this cache.");
            }

            var taken = _changeLog;
            _changeLog = [];
            return (taken, _items, _revision);
        }
    }

    /// <summary>Starts following the store and returns once the initial listing is applied.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns once the cache reflects at least <paramref name="revision"/>; asks the store for watch
    /// progress when no change under the prefix carries the cache that far.</summary>
    public async Task WaitForRevisionAsync(long revision, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            if (_revision >= revision)
            {
                return;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((revision, done));
        }

        // The revision may belong to a write outside the prefix: only a progress report can carry us there.
        var delay = TimeSpan.FromMilliseconds(50);
        while (!done.Task.IsCompleted)
        {
            await RequestProgressAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await done.Task.WaitAsync(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }
    }

    /// <summary>Every update as it is applied (null before the first), for consumers that react to changes.
    /// A slow reader may miss intermediate updates but always sees the latest; read <see cref="Items"/> for state.</summary>
    public IAsyncEnumerable<WatchUpdate?> WatchAppliedAsync(CancellationToken cancellationToken = default) => _applied.ReadAllAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _applied.Complete();
        _stop.Dispose();
    }

    private async Task RequestProgressAsync(CancellationToken cancellationToken)
    {
        // One request in flight is enough for every waiter.
        if (Interlocked.Exchange(ref _progressRequested, 1) != 0)
        {
            return;
        }

        try
        {
            await _store.RequestWatchProgressAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            // Unreachable for now: the waiter's loop asks again.
        }
        finally
        {
            Volatile.Write(ref _progressRequested, 0);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // Until cancelled: the cache must follow its prefix for its whole life. Every failure (or end) of the watch
        // pauses on the store.watch.resume shape before the next one: a watch that applied something starts the pauses
        // over (one first pause, so a watch that fails right after each delivery cannot spin, re-listing the prefix
        // each time), one that fails before applying anything backs off further each time.
        using var resume = new RetryPacer(
            StoreRetries.WatchResume, _time, args => CacheLog.WatchFailed(_logger, args.Outcome.Exception!, _prefix, Revision));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (applied, failure) = await FollowAsync(stop).ConfigureAwait(false);
                if (applied)
                {
                    resume.Reset();
                }

                await resume.PauseAfterAsync(failure, stop).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // Disposed, possibly while a failed watch was being looked at.
                return;
            }
        }
    }

    /// <summary>Follows the prefix from <see cref="Revision"/> until the watch fails or ends; returns whether anything
    /// was applied and why it stopped (a watch never ends on its own unless stopped, so an end counts as a failure).</summary>
    private async ValueTask<(bool Applied, Exception Failure)> FollowAsync(CancellationToken stop)
    {
        var applied = false;
        try
        {
            await foreach (var update in _store.WatchAsync(_prefix, Revision, stop).ConfigureAwait(false))
            {
                Apply(update);
                applied = true;
            }
        }
        catch (Exception ex) when (!stop.IsCancellationRequested)
        {
            return (applied, ex);
        }

        return (applied, new StoreException(applied
            ? $"The watch of {_prefix} ended."
            : $"The watch of {_prefix} ended without delivering anything."));
    }

    /// <summary>
    /// Whether <paramref name="change"/> tells the cache something it does not know yet. Deliveries may repeat
    /// (a watch resumed after a resync), so a put older than what is held and a delete older than the cache's
    /// revision, or than the key's re-creation, are skipped.
    /// </summary>
    internal static bool IsNewer(StoreChange change, StoreItem? held, long cacheRevision) => change.Kind switch
    {
        ChangeKind.Put => held is null || change.Item!.ModRevision > held.ModRevision,
        _ => change.Revision > cacheRevision && (held is null || held.ModRevision < change.Revision),
    };

    private void Apply(WatchUpdate update)
    {
        List<TaskCompletionSource> ready = [];
        lock (_lock)
        {
            switch (update)
            {
                case WatchResync resync:
                    var replaced = resync.Items.ToImmutableSortedDictionary(i => i.Key, i => i, StringComparer.Ordinal);
                    if (_changeLog is not null)
                    {
                        LogDifference(_items, replaced, resync.Revision, _changeLog);
                    }

                    _items = replaced;
                    _revision = Math.Max(_revision, resync.Revision);
                    Resyncs++;
                    CacheLog.Resynced(_logger, _prefix, resync.Items.Count, resync.Revision);
                    break;
                case WatchChanges changes:
                    var builder = _items.ToBuilder();
                    foreach (var change in changes.Changes)
                    {
                        if (!IsNewer(change, builder.GetValueOrDefault(change.Key), _revision))
                        {
                            continue;
                        }

                        if (change.Kind == ChangeKind.Delete)
                        {
                            if (!builder.Remove(change.Key))
                            {
                                continue; // Nothing held: nothing to tell a consumer either.
                            }
                        }
                        else
                        {
                            builder[change.Key] = change.Item!;
                        }

                        _changeLog?.Add(change);
                    }

                    _items = builder.ToImmutable();
                    _revision = Math.Max(_revision, changes.Revision);
                    break;
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Revision <= _revision)
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        _loaded.TrySetResult();
        foreach (var done in ready)
        {
            done.TrySetResult();
        }

        _applied.Publish(update, static (_, _) => false);
    }

    /// <summary>The puts and deletes that turn <paramref name="before"/> into <paramref name="after"/>: one merge of
    /// two key-ordered sequences, O(size of both).</summary>
    private static void LogDifference(
        ImmutableSortedDictionary<string, StoreItem> before, ImmutableSortedDictionary<string, StoreItem> after, long revision, List<StoreChange> log)
    {
        using var old = before.GetEnumerator();
        using var now = after.GetEnumerator();
        var hasOld = old.MoveNext();
        var hasNow = now.MoveNext();
        while (hasOld || hasNow)
        {
            var order = !hasOld ? 1 : !hasNow ? -1 : string.CompareOrdinal(old.Current.Key, now.Current.Key);
            if (order < 0)
            {
                log.Add(new StoreChange(ChangeKind.Delete, old.Current.Key, null, revision));
                hasOld = old.MoveNext();
                continue;
            }

            if (order > 0 || old.Current.Value.ModRevision != now.Current.Value.ModRevision
                || old.Current.Value.CreateRevision != now.Current.Value.CreateRevision)
            {
                log.Add(new StoreChange(ChangeKind.Put, now.Current.Key, now.Current.Value, now.Current.Value.ModRevision));
            }

            if (order == 0)
            {
                hasOld = old.MoveNext();
            }

            hasNow = now.MoveNext();
        }
    }
}
