using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

public sealed partial class ZooKeeperCoordinationStore : IStoreDirectories
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListChildNamesAsync(string parent, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(parent, nameof(parent));
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var children = await client.GetChildrenAsync(PathOf(parent), cancellationToken).ConfigureAwait(false);
            return children.Children.Order(StringComparer.Ordinal).ToList();
        }
        catch (NoNodeException)
        {
            return [];
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, $"listing the names under {parent}");
        }
    }

    /// <inheritdoc />
    public async Task<bool> IsEmptyDirectoryAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stat = await client.ExistsAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
            return stat is { DataLength: 0, NumChildren: 0, EphemeralOwner: 0 };
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, $"reading {key}");
        }
    }
}
