namespace ControlPlane.Coordination;

/// <summary>
/// Implemented by both stores: what an operator asks of the store itself (members, leader, load, size), each figure
/// in the store's own terms. Figures a store does not offer, or that its configuration hides (ZooKeeper's four-letter
/// words may be disabled), are null and named in <see cref="StoreHealth.Notes"/>: reading health never fails for a
/// missing figure. Used by <c>GET /v1/doctor</c>.
/// </summary>
public interface IStoreHealth
{
    /// <summary>Reads the store's health; <paramref name="parents"/> are keys whose direct children are counted
    /// (ZooKeeper: one <c>exists</c> each, for the 1 MiB packet limit on a listing; etcd pages ranges and ignores them).</summary>
    Task<StoreHealth> ReadHealthAsync(IReadOnlyList<string> parents, CancellationToken cancellationToken = default);
}

/// <summary>The store as it describes itself.</summary>
/// <param name="Members">Every member the store knows (etcd: its member list; ZooKeeper: its quorum configuration, or
/// the configured endpoints when it runs standalone), each probed once.</param>
/// <param name="DbSizeBytes">etcd: the largest backend database size among members; null on ZooKeeper.</param>
/// <param name="DbSizeInUseBytes">etcd: the bytes of that database in use (the rest is freed by defragmentation).</param>
/// <param name="Alarms">etcd: raised alarms (<c>NOSPACE</c>, <c>CORRUPT</c>) as members report them.</param>
/// <param name="CompactRevision">etcd: the revision history was compacted at (0: never); null when unknown or on ZooKeeper.</param>
/// <param name="Revision">The store's current revision (etcd revision, ZooKeeper zxid) as this read saw it.</param>
/// <param name="ChildCounts">ZooKeeper: direct children of each requested parent that exists; null on etcd.</param>
/// <param name="Notes">Figures that could not be read, and why.</param>
public sealed record StoreHealth(
    IReadOnlyList<StoreMemberHealth> Members, long? DbSizeBytes, long? DbSizeInUseBytes, IReadOnlyList<string> Alarms,
    long? CompactRevision, long Revision, IReadOnlyDictionary<string, int>? ChildCounts, IReadOnlyList<string> Notes);

/// <summary>One member as probed.</summary>
/// <param name="Name">Its name (etcd) or server id / endpoint (ZooKeeper).</param>
/// <param name="Endpoint">The client endpoint probed, when known.</param>
/// <param name="Reachable">It answered the probe.</param>
/// <param name="Role"><c>leader</c>, <c>follower</c>, <c>standalone</c>, <c>learner</c>, or null when unknown.</param>
/// <param name="OutstandingRequests">ZooKeeper: requests queued in the server (<c>srvr</c>); null when unknown.</param>
/// <param name="Error">Why it did not answer, or why a figure is missing.</param>
public sealed record StoreMemberHealth(string Name, string? Endpoint, bool Reachable, string? Role, long? OutstandingRequests, string? Error);
