using System.Runtime.CompilerServices;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

public sealed partial class ZooKeeperCoordinationStore
{
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _progressRequests;

    /// <summary>Completes at the next progress request; replaced by a fresh one each time.</summary>
    internal Task ProgressSignal => Volatile.Read(ref _progress).Task;

    /// <summary>How many progress reports were requested so far: a watch answers when it has handled fewer.</summary>
    internal long ProgressRequests => Interlocked.Read(ref _progressRequests);

    internal Microsoft.Extensions.Logging.ILogger Logger => _logger;

    /// <inheritdoc />
    /// <remarks>ZooKeeper keeps no history: every watch starts with a resync, whatever <paramref name="afterRevision"/> says.</remarks>
    public IAsyncEnumerable<WatchUpdate> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidatePrefix(prefix, nameof(prefix));
        ArgumentOutOfRangeException.ThrowIfNegative(afterRevision);
        return WatchCoreAsync(prefix, cancellationToken);
    }

    /// <inheritdoc />
    public Task RequestWatchProgressAsync(CancellationToken cancellationToken = default)
    {
        // Each watch answers on its own connection (sync, then drain), in its own loop. The count goes up before the
        // signal fires, so a watch that wakes up sees the request.
        Interlocked.Increment(ref _progressRequests);
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return Task.CompletedTask;
    }

    /// <summary>Appends every key under <paramref name="prefix"/> (the prefix itself included) to <paramref name="items"/>,
    /// with at most <see cref="ZooKeeperStoreOptions.SubtreeReadWindow"/> requests in flight (<see cref="SubtreeReader"/>).</summary>
    /// <returns>How many requests the read sent.</returns>
    internal Task<long> ReadSubtreeAsync(ZooKeeperClient client, string prefix, List<StoreItem> items, CancellationToken cancellationToken) =>
        SubtreeReader.ReadAsync(
            prefix,
            (key, ct) => ReadNodeDataAsync(client, key, ct),
            (key, ct) => ReadChildNamesAsync(client, key, ct),
            _options.SubtreeReadWindow,
            items,
            cancellationToken);

    /// <summary>The most distinct keys a subtree watch remembers to read (<see cref="ZooKeeperStoreOptions.WatchBacklogLimit"/>).</summary>
    internal int WatchBacklogLimit => _options.WatchBacklogLimit;

    /// <summary>Reads one key; null when it is absent or only a directory (a znode with no value).</summary>
    internal async Task<StoreItem?> ReadItemAsync(ZooKeeperClient client, string key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.GetDataAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
            return ToItem(key, result.Data, result.Stat);
        }
        catch (NoNodeException)
        {
            return null;
        }
    }

    /// <summary>One node's item and child count; null when it is absent.</summary>
    private async Task<NodeData?> ReadNodeDataAsync(ZooKeeperClient client, string key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.GetDataAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
            return new NodeData(ToItem(key, result.Data, result.Stat), result.Stat.NumChildren);
        }
        catch (NoNodeException)
        {
            return null;
        }
    }

    /// <summary>One node's child names; none when it is absent.</summary>
    private async Task<IReadOnlyList<string>> ReadChildNamesAsync(ZooKeeperClient client, string key, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.GetChildrenAsync(PathOf(key), cancellationToken).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return [];
        }
    }

    private async IAsyncEnumerable<WatchUpdate> WatchCoreAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        var watch = new SubtreeWatch(this, prefix);
        await using (watch.ConfigureAwait(false))
        {
            while (true)
            {
                yield return await watch.NextAsync(linked.Token).ConfigureAwait(false);
            }
        }
    }
}
