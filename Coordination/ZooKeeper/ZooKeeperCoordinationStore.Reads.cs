using ControlPlane.Coordination.Resilience;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

public sealed partial class ZooKeeperCoordinationStore
{
    /// <inheritdoc />
    public async Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadItemAsync(client, key, cancellationToken).ConfigureAwait(false);
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, $"reading {key}");
        }
    }

    /// <inheritdoc />
    public async Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(parent, nameof(parent));
        options ??= new ListOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Limit, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Limit, 10_000, nameof(options));
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<string> children;
            try
            {
                children = (await client.GetChildrenAsync(PathOf(parent), cancellationToken).ConfigureAwait(false)).Children;
            }
            catch (NoNodeException)
            {
                return new StorePage([], null, client.LastZxid);
            }

            var names = children
                .Where(n => options.After is null || string.CompareOrdinal(n, options.After) > 0)
                .Order(StringComparer.Ordinal)
                .Take(options.Limit + 1)
                .ToList();
            var more = names.Count > options.Limit;
            if (more)
            {
                names.RemoveAt(names.Count - 1);
            }

            // Pipelined: every read is in flight on the one connection at once.
            var reads = names.Select(n => ReadItemAsync(client, $"{parent}/{n}", cancellationToken)).ToList();
            var items = (await Task.WhenAll(reads).ConfigureAwait(false)).OfType<StoreItem>().ToList();
            return new StorePage(items, more ? names[^1] : null, client.LastZxid);
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, $"listing {parent}");
        }
    }

    /// <inheritdoc />
    public async Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default)
    {
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The client sends the highest zxid it has seen on every reconnect, so it never reads older state;
            // a revision beyond that was written through another client, and sync makes this server catch up.
            if (client.LastZxid < revision)
            {
                await client.SyncAsync(_rootPath, cancellationToken).ConfigureAwait(false);
            }

            return client.LastZxid;
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, "sync");
        }
    }

    /// <inheritdoc />
    public async Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var path = PathOf(key);
        using var rewatch = new RetryPacer(StoreRetries.ZooKeeperRewatch, _time);
        while (true)
        {
            var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
            WatchedResult<Stat?> watched;
            try
            {
                watched = await client.ExistsAndWatchAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (ZooKeeperException ex) when (ex is ConnectionLossException or SessionExpiredException)
            {
                // Wait for the connection (or a new session) and look again; the pause (store.rewatch.zookeeper)
                // bounds the loop while the client has not yet noticed the loss itself.
                await WaitForContactAsync(cancellationToken).ConfigureAwait(false);
                await rewatch.PauseAfterAsync(ex, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (ZooKeeperException ex)
            {
                throw Translate(ex, write: false, $"watching {key}");
            }

            rewatch.Reset();
            if (watched.Value is null)
            {
                return;
            }

            // One-shot watches survive reconnects (re-registered by the client); a new session needs a new one.
            var session = (ZooKeeperStoreSession)Session;
            await Task.WhenAny(watched.Changed, session.Ended).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal async Task WaitForContactAsync(CancellationToken cancellationToken)
    {
        await foreach (var state in Session.WatchStateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (state is SessionState.Connected or SessionState.Lost or SessionState.Closed)
            {
                return;
            }
        }
    }
}
