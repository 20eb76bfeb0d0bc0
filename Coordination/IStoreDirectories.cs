namespace ControlPlane.Coordination;

/// <summary>
/// Implemented by stores whose parent keys are nodes of their own: on ZooKeeper a parent is a znode without a value
/// (a <em>directory</em>), created on demand for the keys below it, which stays after they are gone and reads as
/// absent. Lets the owner of a subtree find such directories and remove the empty ones, so churn (one directory per
/// departed worker) does not grow a listing without bound. etcd has no directories and does not implement this.
/// </summary>
/// <remarks>
/// A directory is removed with an ordinary <see cref="Transaction.Delete"/> of its key (so it can be fenced like any
/// other write): the store deletes it only while it has no children, and fails the transaction at that operation
/// otherwise. A create below a directory deleted meanwhile recreates it (the store creates missing parents), so a
/// removal never makes a later write fail for good. See docs/coordination.md.
/// </remarks>
public interface IStoreDirectories
{
    /// <summary>
    /// The names of every direct child of <paramref name="parent"/>, values and directories alike, ordered by name,
    /// from one request (ZooKeeper <c>getChildren</c>: the answer carries every name, so keep such parents small).
    /// Empty when <paramref name="parent"/> does not exist.
    /// </summary>
    Task<IReadOnlyList<string>> ListChildNamesAsync(string parent, CancellationToken cancellationToken = default);

    /// <summary>True when <paramref name="key"/> is, now, a directory without children: it exists, holds no value, is
    /// not ephemeral and has nothing below it. False for values, absent keys and directories with children.</summary>
    Task<bool> IsEmptyDirectoryAsync(string key, CancellationToken cancellationToken = default);
}
