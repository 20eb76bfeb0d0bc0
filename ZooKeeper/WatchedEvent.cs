namespace ControlPlane.ZooKeeper;

/// <summary>What happened to a watched node (wire values).</summary>
public enum WatchEventType
{
    /// <summary>Delivered to persistent watches after a reconnect: the server re-arms persistent watches but does
    /// not replay what changed while the client was disconnected, so re-read the state you track.</summary>
    None = -1,
    /// <summary>The node was created.</summary>
    NodeCreated = 1,
    /// <summary>The node was deleted.</summary>
    NodeDeleted = 2,
    /// <summary>The node's data changed.</summary>
    NodeDataChanged = 3,
    /// <summary>The node's children changed.</summary>
    NodeChildrenChanged = 4,
    /// <summary>A data watch was removed.</summary>
    DataWatchRemoved = 5,
    /// <summary>A child watch was removed.</summary>
    ChildWatchRemoved = 6,
    /// <summary>A persistent watch was removed.</summary>
    PersistentWatchRemoved = 7,
}

/// <summary>The kind of persistent watch for <see cref="ZooKeeperClient.AddWatchAsync"/> (wire values).</summary>
public enum AddWatchMode
{
    /// <summary>Fires for every change of the node itself (data, children list, creation, deletion) and stays.</summary>
    Persistent = 0,
    /// <summary>Fires for creation, data change and deletion of the node and of every descendant, and stays.</summary>
    PersistentRecursive = 1,
}

/// <summary>Which watches <see cref="ZooKeeperClient.RemoveWatchesAsync"/> removes (wire values).</summary>
public enum WatcherType
{
    /// <summary>Child watches (from GetChildren).</summary>
    Children = 1,
    /// <summary>Data and exists watches.</summary>
    Data = 2,
    /// <summary>Every watch on the path, persistent ones included.</summary>
    Any = 3,
}

/// <summary>A watch notification.</summary>
/// <param name="Type">What happened.</param>
/// <param name="Path">The node it happened to, relative to the chroot.</param>
public sealed record WatchedEvent(WatchEventType Type, string Path);
