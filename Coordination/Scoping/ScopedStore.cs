using System.Runtime.CompilerServices;

namespace ControlPlane.Coordination;

/// <summary>Scoped store views: the same store, seen from below one prefix.</summary>
public static class StoreScopeExtensions
{
    /// <summary>
    /// A view of <paramref name="store"/> in which every key is below <paramref name="prefix"/>: reads, writes,
    /// transactions (conditions included, so a fence is checked in the scope), watches and ephemeral keys are prefixed
    /// with <c>&lt;prefix&gt;/</c>, and every key returned has it stripped. Nothing outside the prefix can be named or
    /// seen through the view. The empty prefix returns <paramref name="store"/> itself.
    /// </summary>
    /// <remarks>
    /// The view shares <paramref name="store"/>'s connection, session and revisions (<see cref="ICoordinationStore.SeenRevision"/>,
    /// <see cref="ICoordinationStore.SyncAsync"/>, watch progress), so writes through the store and the view are ordered
    /// alike. Disposing the view does not close the store: its owner does. When the store implements
    /// <see cref="IStoreDirectories"/> (ZooKeeper), so does the view. Errors from the store below name the store's keys.
    /// </remarks>
    /// <param name="store">The store beneath the view.</param>
    /// <param name="prefix">The scope: a valid key, or empty for the store itself.</param>
    /// <param name="shared">Top-level subtrees the view passes through at the root (<see cref="StoreScope.Shared"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid key, or a shared entry is not one
    /// segment outside it.</exception>
    public static ICoordinationStore Scoped(this ICoordinationStore store, string prefix, IReadOnlyList<string>? shared = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0)
        {
            return store;
        }

        var scope = new StoreScope(prefix, shared);
        return store is IStoreDirectories directories ? new ScopedDirectoryStore(store, directories, scope) : new ScopedStore(store, scope);
    }
}

/// <summary>The view <see cref="StoreScopeExtensions.Scoped"/> returns.</summary>
internal class ScopedStore(ICoordinationStore inner, StoreScope scope) : ICoordinationStore
{
    protected StoreScope Scope { get; } = scope;

    public StoreBackend Backend => inner.Backend;

    public IStoreSession Session => inner.Session;

    public long SeenRevision => inner.SeenRevision;

    public async Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var item = await inner.GetAsync(Scope.ToStore(key), cancellationToken).ConfigureAwait(false);
        return item is null ? null : Scope.FromStore(item);
    }

    public async Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        var page = await inner.ListAsync(Scope.ToStore(parent, nameof(parent)), options, cancellationToken).ConfigureAwait(false);
        return page with { Items = [.. page.Items.Select(Scope.FromStore)] };
    }

    public async Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        var result = await inner.CommitAsync(Scope.ToStore(transaction), cancellationToken).ConfigureAwait(false);
        return Scope.FromStore(result);
    }

    public Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default) => inner.SyncAsync(revision, cancellationToken);

    public IAsyncEnumerable<WatchUpdate> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default) =>
        WatchScopedAsync(Scope.ToStorePrefix(prefix), afterRevision, cancellationToken);

    public Task RequestWatchProgressAsync(CancellationToken cancellationToken = default) => inner.RequestWatchProgressAsync(cancellationToken);

    public Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default) =>
        inner.WaitForDeletionAsync(Scope.ToStore(key), cancellationToken);

    /// <summary>A view owns nothing: the store beneath it is closed by its owner.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public override string ToString() => $"{inner} scoped to {Scope}";

    private async IAsyncEnumerable<WatchUpdate> WatchScopedAsync(string storePrefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var update in inner.WatchAsync(storePrefix, afterRevision, cancellationToken).ConfigureAwait(false))
        {
            yield return Scope.FromStore(update);
        }
    }
}

/// <summary>A scoped view of a store with directories (ZooKeeper).</summary>
internal sealed class ScopedDirectoryStore(ICoordinationStore inner, IStoreDirectories directories, StoreScope scope)
    : ScopedStore(inner, scope), IStoreDirectories
{
    public Task<IReadOnlyList<string>> ListChildNamesAsync(string parent, CancellationToken cancellationToken = default) =>
        directories.ListChildNamesAsync(Scope.ToStore(parent, nameof(parent)), cancellationToken);

    public Task<bool> IsEmptyDirectoryAsync(string key, CancellationToken cancellationToken = default) =>
        directories.IsEmptyDirectoryAsync(Scope.ToStore(key), cancellationToken);
}
