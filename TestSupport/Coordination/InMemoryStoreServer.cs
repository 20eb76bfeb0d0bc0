using System.Threading.Channels;
using ControlPlane.Coordination;

namespace ControlPlane.TestSupport.Coordination;

/// <summary>
/// An in-memory stand-in for a store server, shared by several <see cref="InMemoryStore"/> clients: the
/// semantics of <see cref="ICoordinationStore"/> (revisions, ephemeral keys, all-or-nothing transactions,
/// ordered watches, compaction) without a network, for fast unit tests of the recipes. Integration tests use
/// real servers instead.
/// </summary>
public sealed class InMemoryStoreServer
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, StoreItem> _items = new(StringComparer.Ordinal);
    private readonly List<StoreChange> _history = [];
    private readonly List<Subscriber> _subscribers = [];
    private long _revision;
    private long _compactedThrough;
    private long _nextSessionId;

    /// <summary>The latest revision.</summary>
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

    /// <summary>Opens a client with a new session of <paramref name="sessionTimeout"/> (default 10 s).</summary>
    public InMemoryStore Connect(TimeSpan? sessionTimeout = null, TimeProvider? timeProvider = null) =>
        new(this, sessionTimeout ?? TimeSpan.FromSeconds(10), timeProvider ?? TimeProvider.System);

    /// <summary>Forgets history up to the current revision: watches from older revisions start with a resync.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _compactedThrough = _revision;
            _history.Clear();
        }
    }

    /// <summary>Deletes <paramref name="key"/> without telling any watch, as if the notification were lost:
    /// for tests of the code paths that must not depend on notifications alone.</summary>
    public void DeleteSilently(string key)
    {
        lock (_lock)
        {
            if (_items.Remove(key))
            {
                _revision++;
            }
        }
    }

    /// <summary>Fails every open watch, as a broken stream would; watchers must follow again.</summary>
    public void BreakWatches()
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete(new StoreException("The watch broke (test hook)."));
            }

            _subscribers.Clear();
        }
    }

    /// <summary>Every key and value now (for assertions).</summary>
    public IReadOnlyList<StoreItem> Snapshot()
    {
        lock (_lock)
        {
            return _items.Values.ToList();
        }
    }

    internal long NewSessionId() => Interlocked.Increment(ref _nextSessionId);

    internal StoreItem? Get(string key)
    {
        lock (_lock)
        {
            return _items.GetValueOrDefault(key);
        }
    }

    internal (List<StoreItem> Items, long Revision) List(string parent, string? after, int limit)
    {
        lock (_lock)
        {
            var prefix = parent + "/";
            var items = _items.Values
                .Where(i => i.Key.StartsWith(prefix, StringComparison.Ordinal) && !i.Key.AsSpan(prefix.Length).Contains('/'))
                .Where(i => after is null || string.CompareOrdinal(StoreKeys.Name(i.Key), after) > 0)
                .Take(limit)
                .ToList();
            return (items, _revision);
        }
    }

    internal CommitResult Commit(Transaction transaction, long sessionId)
    {
        lock (_lock)
        {
            var index = 0;
            foreach (var condition in transaction.Conditions)
            {
                if (!Holds(condition))
                {
                    return new CommitResult { Succeeded = false, Revision = _revision, FailedIndex = index };
                }

                index++;
            }

            // Check every operation against the state as the earlier operations of this transaction leave it.
            var staged = new Dictionary<string, StoreItem?>(StringComparer.Ordinal);
            StoreItem? Current(string key) => staged.TryGetValue(key, out var s) ? s : _items.GetValueOrDefault(key);
            var revision = _revision + 1;
            var items = new List<StoreItem?>();
            foreach (var op in transaction.Operations)
            {
                var existing = Current(op.Key);
                var ok = op.Kind switch
                {
                    OperationKind.Create => existing is null && (StoreKeys.Parent(op.Key) is not { } parent || Current(parent) is not { IsEphemeral: true }),
                    _ => existing is not null && (op.ExpectedVersion is null || existing.Version == op.ExpectedVersion),
                };
                if (!ok)
                {
                    return new CommitResult { Succeeded = false, Revision = _revision, FailedIndex = index };
                }

                StoreItem? next = op.Kind switch
                {
                    OperationKind.Create => new StoreItem(op.Key, op.Value.ToArray(), revision, revision, 1, op.Ephemeral ? sessionId : 0),
                    OperationKind.Update => existing! with { Value = op.Value.ToArray(), ModRevision = revision, Version = existing.Version + 1 },
                    _ => null,
                };
                staged[op.Key] = next;
                items.Add(next);
                index++;
            }

            _revision = revision;
            var changes = new List<StoreChange>(staged.Count);
            foreach (var (key, item) in staged)
            {
                if (item is null)
                {
                    _items.Remove(key);
                    changes.Add(new StoreChange(ChangeKind.Delete, key, null, revision));
                }
                else
                {
                    _items[key] = item;
                    changes.Add(new StoreChange(ChangeKind.Put, key, item, revision));
                }
            }

            Publish(changes, revision);
            return new CommitResult { Succeeded = true, Revision = revision, Items = items };
        }
    }

    /// <summary>Deletes every ephemeral key of <paramref name="sessionId"/> in one revision, as both stores do.</summary>
    internal void EndSession(long sessionId)
    {
        lock (_lock)
        {
            var doomed = _items.Values.Where(i => i.Owner == sessionId).Select(i => i.Key).ToList();
            if (doomed.Count == 0)
            {
                return;
            }

            var revision = ++_revision;
            foreach (var key in doomed)
            {
                _items.Remove(key);
            }

            Publish(doomed.Select(k => new StoreChange(ChangeKind.Delete, k, null, revision)).ToList(), revision);
        }
    }

    /// <summary>Tells every watch that all changes up to the current revision were delivered.</summary>
    internal void ReportProgress()
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(new WatchChanges([], _revision));
            }
        }
    }

    internal ChannelReader<WatchUpdate> Subscribe(string prefix, long afterRevision, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<WatchUpdate>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            if (afterRevision <= 0 || afterRevision < _compactedThrough)
            {
                var items = _items.Values.Where(i => Under(i.Key, prefix)).ToList();
                channel.Writer.TryWrite(new WatchResync(items, _revision));
            }
            else
            {
                foreach (var group in _history.Where(c => c.Revision > afterRevision && Under(c.Key, prefix)).GroupBy(c => c.Revision))
                {
                    channel.Writer.TryWrite(new WatchChanges(group.ToList(), group.Key));
                }
            }

            var subscriber = new Subscriber(prefix, channel.Writer);
            _subscribers.Add(subscriber);
            cancellationToken.Register(() =>
            {
                lock (_lock)
                {
                    _subscribers.Remove(subscriber);
                }

                channel.Writer.TryComplete();
            });
        }

        return channel.Reader;
    }

    private void Publish(List<StoreChange> changes, long revision)
    {
        _history.AddRange(changes);
        foreach (var subscriber in _subscribers)
        {
            var mine = changes.Where(c => Under(c.Key, subscriber.Prefix)).ToList();
            if (mine.Count > 0)
            {
                subscriber.Writer.TryWrite(new WatchChanges(mine, revision));
            }
        }
    }

    private bool Holds(Condition condition)
    {
        var item = _items.GetValueOrDefault(condition.Key);
        return condition.Kind switch
        {
            ConditionKind.Exists => item is not null,
            ConditionKind.Absent => item is null,
            ConditionKind.VersionEquals => item?.Version == condition.Value,
            ConditionKind.CreatedAt => item?.CreateRevision == condition.Value,
            _ => false,
        };
    }

    private static bool Under(string key, string prefix) =>
        key == prefix || key.StartsWith(prefix + "/", StringComparison.Ordinal);

    private sealed record Subscriber(string Prefix, ChannelWriter<WatchUpdate> Writer);
}
