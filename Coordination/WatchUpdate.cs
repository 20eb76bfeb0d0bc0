namespace ControlPlane.Coordination;

/// <summary>What happened to a key.</summary>
public enum ChangeKind
{
    /// <summary>Created or updated: <see cref="StoreChange.Item"/> holds the new value.</summary>
    Put,

    /// <summary>Deleted: <see cref="StoreChange.Item"/> is null.</summary>
    Delete,
}

/// <summary>One change to one key.</summary>
/// <param name="Kind">Put or delete.</param>
/// <param name="Key">The key, relative to the store's root.</param>
/// <param name="Item">The new value and versions (null for deletes).</param>
/// <param name="Revision">The revision of the change (for ZooKeeper deletes: a revision at or after it).</param>
public sealed record StoreChange(ChangeKind Kind, string Key, StoreItem? Item, long Revision);

/// <summary>One update from <see cref="ICoordinationStore.WatchAsync"/>: either changes or a resync.</summary>
/// <param name="Revision">The revision the consumer is at after applying this update.</param>
public abstract record WatchUpdate(long Revision);

/// <summary>Changes in revision order; apply them in order. An empty list is a progress report: every change
/// up to <paramref name="Revision"/> has been delivered.</summary>
/// <param name="Changes">The changes, oldest first.</param>
/// <param name="Revision">The revision after the last change.</param>
public sealed record WatchChanges(IReadOnlyList<StoreChange> Changes, long Revision) : WatchUpdate(Revision);

/// <summary>
/// The subtree's full contents at <paramref name="Revision"/>: replace everything held for it. Sent first
/// when history cannot be replayed (etcd compaction, ZooKeeper always when starting in the past) and after
/// every gap the store could not report change by change (ZooKeeper reconnect or new session).
/// </summary>
/// <param name="Items">Every key under the watched prefix, ordered by key.</param>
/// <param name="Revision">The revision the listing reflects.</param>
public sealed record WatchResync(IReadOnlyList<StoreItem> Items, long Revision) : WatchUpdate(Revision);
