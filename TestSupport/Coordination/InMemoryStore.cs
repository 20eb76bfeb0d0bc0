using System.Runtime.CompilerServices;
using ControlPlane.Coordination;

namespace ControlPlane.TestSupport.Coordination;

/// <summary>
/// One client of an <see cref="InMemoryStoreServer"/>. While its session is suspended every operation fails
/// as it would behind a partition (commits are not applied, but report an unknown outcome).
/// </summary>
public sealed class InMemoryStore : ICoordinationStore
{
    private readonly InMemoryStoreServer _server;
    private readonly TimeSpan _sessionTimeout;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private InMemorySession _session;
    private long _seen;
    private bool _disposed;
    private int _loseNextReply;

    internal InMemoryStore(InMemoryStoreServer server, TimeSpan sessionTimeout, TimeProvider time)
    {
        _server = server;
        _sessionTimeout = sessionTimeout;
        _time = time;
        _session = new InMemorySession(server, sessionTimeout, time);
    }

    /// <inheritdoc />
    public StoreBackend Backend => StoreBackend.ZooKeeper;

    /// <inheritdoc />
    public IStoreSession Session => CurrentSession;

    /// <summary>The session as its concrete type, for tests to suspend, reconnect or expire.</summary>
    public InMemorySession CurrentSession
    {
        get
        {
            lock (_lock)
            {
                // A new session replaces an ended one, as the real adapters do.
                if (_session.State is SessionState.Lost && !_disposed)
                {
                    _session = new InMemorySession(_server, _sessionTimeout, _time);
                }

                return _session;
            }
        }
    }

    /// <summary>The next commit is applied but reports <see cref="StoreOutcomeUnknownException"/>, like a reply
    /// lost with the connection.</summary>
    public void LoseNextCommitReply() => Interlocked.Exchange(ref _loseNextReply, 1);

    /// <inheritdoc />
    public long SeenRevision => Interlocked.Read(ref _seen);

    /// <inheritdoc />
    public Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        EnsureReachable();
        Seen(_server.Revision);
        return Task.FromResult(_server.Get(key));
    }

    /// <inheritdoc />
    public Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(parent, nameof(parent));
        EnsureReachable();
        var limit = (options ?? new ListOptions()).Limit;
        var (items, revision) = _server.List(parent, options?.After, limit + 1);
        Seen(revision);
        var page = items.Take(limit).ToList();
        return Task.FromResult(new StorePage(page, items.Count > limit ? StoreKeys.Name(page[^1].Key) : null, revision));
    }

    /// <inheritdoc />
    public Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var session = CurrentSession;
        if (session.State == SessionState.Suspended)
        {
            throw new StoreOutcomeUnknownException("The store is unreachable (suspended session); the commit's outcome is unknown.");
        }

        if (session.State != SessionState.Connected && transaction.Operations.Any(o => o.Ephemeral))
        {
            throw new SessionLostException("The session has ended; ephemeral keys cannot be created on it.");
        }

        var result = _server.Commit(transaction, session.Id);
        Seen(result.Revision);
        if (Interlocked.Exchange(ref _loseNextReply, 0) != 0)
        {
            throw new StoreOutcomeUnknownException("The reply was lost (test hook); the commit was applied.");
        }

        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default)
    {
        EnsureReachable();
        var now = _server.Revision;
        Seen(now);
        return Task.FromResult(now);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<WatchUpdate> WatchAsync(
        string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(prefix, nameof(prefix));
        var reader = _server.Subscribe(prefix, afterRevision, cancellationToken);
        await foreach (var update in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Seen(update.Revision);
            yield return update;
        }
    }

    /// <inheritdoc />
    public Task RequestWatchProgressAsync(CancellationToken cancellationToken = default)
    {
        EnsureReachable();
        _server.ReportProgress();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var revision = _server.Revision;
        if (_server.Get(key) is null)
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await foreach (var update in WatchAsync(key, revision, stop.Token).ConfigureAwait(false))
        {
            var gone = update switch
            {
                WatchChanges c => c.Changes.Any(x => x.Key == key && x.Kind == ChangeKind.Delete),
                WatchResync r => r.Items.All(i => i.Key != key),
                _ => false,
            };
            if (gone)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Closes the session (its ephemeral keys are deleted).</summary>
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _session.Close();
        return ValueTask.CompletedTask;
    }

    private void EnsureReachable()
    {
        if (CurrentSession.State == SessionState.Suspended)
        {
            throw new StoreException("The store is unreachable (suspended session).");
        }
    }

    private void Seen(long revision)
    {
        long current;
        while (revision > (current = Interlocked.Read(ref _seen)) && Interlocked.CompareExchange(ref _seen, revision, current) != current)
        {
        }
    }
}
