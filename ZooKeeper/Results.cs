namespace ControlPlane.ZooKeeper;

/// <summary>The outcome of a create: the actual path (with the sequential suffix, without the chroot) and the new node's stat.</summary>
/// <param name="Path">The created node's path.</param>
/// <param name="Stat">The created node's stat.</param>
public sealed record CreateResult(string Path, Stat Stat);

/// <summary>A node's data and stat.</summary>
/// <param name="Data">The node's bytes (empty when it holds none).</param>
/// <param name="Stat">The node's stat at the time of the read.</param>
public sealed record DataResult(byte[] Data, Stat Stat);

/// <summary>A node's children (names only, unordered) and its stat.</summary>
/// <param name="Children">Child names, not paths.</param>
/// <param name="Stat">The parent's stat at the time of the read.</param>
public sealed record ChildrenResult(IReadOnlyList<string> Children, Stat Stat);

/// <summary>A node's ACL and stat.</summary>
/// <param name="Acl">The ACL entries.</param>
/// <param name="Stat">The node's stat (its <see cref="Stat.Aversion"/> is the version for SetAcl).</param>
public sealed record AclResult(IReadOnlyList<ZooKeeperAcl> Acl, Stat Stat);

/// <summary>A read that also left a one-shot watch. <see cref="Changed"/> completes once, with the first
/// event for the node after the read; it faults with <see cref="SessionExpiredException"/> when the session
/// expires and is canceled when the client closes. Reconnects do not lose it (it is re-registered).</summary>
/// <typeparam name="T">What was read.</typeparam>
/// <param name="Value">What was read.</param>
/// <param name="Changed">Completes with the watch's event.</param>
public sealed record WatchedResult<T>(T Value, Task<WatchedEvent> Changed);
