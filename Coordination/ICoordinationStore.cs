namespace ControlPlane.Coordination;

/// <summary>Which store backs an <see cref="ICoordinationStore"/>.</summary>
public enum StoreBackend
{
    /// <summary>ZooKeeper 3.8.</summary>
    ZooKeeper,

    /// <summary>etcd 3.4.</summary>
    Etcd,
}

/// <summary>Paging for <see cref="ICoordinationStore.ListAsync"/>.</summary>
/// <param name="Limit">Most items per page (1–10,000).</param>
/// <param name="After">Resume after this child name (the previous page's <see cref="StorePage.Next"/>), or null to start.</param>
public sealed record ListOptions(int Limit = 1000, string? After = null);

/// <summary>One page of children.</summary>
/// <param name="Items">Children ordered by name.</param>
/// <param name="Next">Pass as <see cref="ListOptions.After"/> for the next page; null on the last page.</param>
/// <param name="Revision">A revision at or after which every item was read.</param>
public sealed record StorePage(IReadOnlyList<StoreItem> Items, string? Next, long Revision);

/// <summary>
/// The one store abstraction directors and agents use: keys under a root, normalised versions, all-or-nothing
/// transactions, paged listing, ordered subtree watches from a revision, and a read barrier.
/// </summary>
/// <remarks>
/// Reads never go backwards: once this store has seen revision R (from any read, write or watch), later
/// reads reflect at least R, whichever server answers. See docs/coordination.md for how each backend keeps
/// every promise here.
/// </remarks>
public interface ICoordinationStore : IAsyncDisposable
{
    /// <summary>The backend in use.</summary>
    StoreBackend Backend { get; }

    /// <summary>The current session. After it ends the store opens a new one for later work; watch
    /// <see cref="IStoreSession.Ended"/> to re-create ephemeral keys.</summary>
    IStoreSession Session { get; }

    /// <summary>The highest revision this store has seen.</summary>
    long SeenRevision { get; }

    /// <summary>Reads one key; null when absent.</summary>
    Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Lists the direct children of <paramref name="parent"/> (deeper keys are not included), a page at a time.</summary>
    Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Applies <paramref name="transaction"/> atomically.</summary>
    /// <exception cref="StoreOutcomeUnknownException">The request may have been applied; read before retrying.</exception>
    /// <exception cref="SessionLostException">An ephemeral create needed a session that has ended.</exception>
    Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default);

    /// <summary>Returns once this store reads state at least as new as <paramref name="revision"/>
    /// (ZooKeeper: <c>sync</c> when needed; etcd: a linearizable read). Returns the revision reached.</summary>
    Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every change under <paramref name="prefix"/> after <paramref name="afterRevision"/>, in order, as
    /// <see cref="WatchChanges"/> and <see cref="WatchResync"/> updates; never stops silently (it ends only by
    /// <paramref name="cancellationToken"/> or disposal, or by throwing).
    /// </summary>
    /// <param name="prefix">A key; the watch covers it and every key below it. The empty prefix covers every key under
    /// the root (the event stream's one watch per director).</param>
    /// <param name="afterRevision">Changes after this revision are reported; 0 starts with a resync.</param>
    /// <param name="cancellationToken">Stops the watch.</param>
    IAsyncEnumerable<WatchUpdate> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks every watch of this store to report progress: each yields an empty <see cref="WatchChanges"/> whose
    /// revision is one the store has reached, once every change up to it has been yielded (etcd: the current
    /// revision, which each watch proves it has reached by comparing its range at two revisions, or reaches by a
    /// <see cref="WatchResync"/> when its own revision was compacted; ZooKeeper: a sync, whose reply the server
    /// sends after every notification before it). A watch-fed cache uses this to prove it is at least as new as a
    /// revision written elsewhere.
    /// </summary>
    Task RequestWatchProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns once <paramref name="key"/> does not exist (at once if it does not now).</summary>
    Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default);
}
