using System.Collections.Concurrent;
using ControlPlane.Coordination;

namespace ControlPlane.TestSupport.Coordination;

/// <summary>
/// An <see cref="ICoordinationStore"/> that passes every call to another one, records the reads and writes it
/// passes (to count store round trips), and can hold commits that touch chosen keys until released (a write
/// that never returns: a wedged report path).
/// </summary>
public sealed class RecordingStore(ICoordinationStore inner) : ICoordinationStore
{
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);

    /// <summary>Every call passed on, in order: <c>get &lt;key&gt;</c>, <c>list &lt;parent&gt;</c>,
    /// <c>commit &lt;first key written&gt;</c>, <c>sync</c>.</summary>
    public IReadOnlyList<string> Calls => [.. _calls];

    /// <summary>Forgets the calls recorded so far.</summary>
    public void ClearCalls() => _calls.Clear();

    /// <summary>From now on, commits that write <paramref name="key"/> wait until <see cref="Release"/> (or their
    /// cancellation) before they reach the store.</summary>
    public void Hold(string key) => _held.TryAdd(key, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets the held commits of <paramref name="key"/> (and later ones) through.</summary>
    public void Release(string key)
    {
        if (_held.TryRemove(key, out var gate))
        {
            gate.TrySetResult();
        }
    }

    /// <inheritdoc />
    public StoreBackend Backend => inner.Backend;

    /// <inheritdoc />
    public IStoreSession Session => inner.Session;

    /// <inheritdoc />
    public long SeenRevision => inner.SeenRevision;

    /// <inheritdoc />
    public Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        _calls.Enqueue("get " + key);
        return inner.GetAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    public Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        _calls.Enqueue("list " + parent);
        return inner.ListAsync(parent, options, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        _calls.Enqueue("commit " + (transaction.Operations.Count > 0 ? transaction.Operations[0].Key : ""));
        foreach (var operation in transaction.Operations)
        {
            if (_held.TryGetValue(operation.Key, out var gate))
            {
                await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return await inner.CommitAsync(transaction, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default)
    {
        _calls.Enqueue("sync");
        return inner.SyncAsync(revision, cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<WatchUpdate> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default) =>
        inner.WatchAsync(prefix, afterRevision, cancellationToken);

    /// <inheritdoc />
    public Task RequestWatchProgressAsync(CancellationToken cancellationToken = default) => inner.RequestWatchProgressAsync(cancellationToken);

    /// <inheritdoc />
    public Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default) => inner.WaitForDeletionAsync(key, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
