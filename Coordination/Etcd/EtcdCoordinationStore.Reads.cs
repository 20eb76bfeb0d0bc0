using ControlPlane.Coordination.Resilience;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Listing, subtree reads and the read barrier.</summary>
public sealed partial class EtcdCoordinationStore
{
    /// <summary>Most ranges one listing issues (each skips a whole child subtree or returns keys): a bound, never reached in practice.</summary>
    private const int MaxListRounds = 100_000;

    /// <inheritdoc />
    /// <remarks>A prefix range over <c>parent/</c> read at one pinned revision; keys deeper than one level are skipped
    /// a whole child subtree at a time.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The limit is outside 1–10,000.</exception>
    public async Task<StorePage> ListAsync(string parent, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(parent, nameof(parent));
        options ??= new ListOptions();
        if (options.Limit is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"ListOptions.Limit must be 1 to 10,000; got {options.Limit}.");
        }

        if (options.After is { } after && (after.Length == 0 || after.Contains('/', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"ListOptions.After must be a child name (no '/'); got '{after}'.", nameof(options));
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ListOnceAsync(_rootPrefix + parent + "/", options.Limit, options.After, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdCompactedException ex)
            {
                // The pinned revision was compacted between two ranges: read again at a fresh one.
                if (attempt == 3)
                {
                    throw new StoreException($"Listing {parent} kept racing with compaction: {ex.Message}", ex);
                }
            }
        }
    }

    /// <summary>Every key of the subtree at <paramref name="full"/> (the key itself and keys below <c>full/</c>) at one revision.</summary>
    private async Task<(List<StoreItem> Items, long Revision)> ReadSubtreeAsync(string full, CancellationToken cancellationToken)
    {
        var items = new List<StoreItem>();
        var start = ByteString.CopyFromUtf8(full);
        var end = EtcdKeys.PrefixEnd(full);
        long revision = 0;
        var floor = SeenRevision;
        for (var round = 0; round < MaxListRounds; round++)
        {
            var request = new RangeRequest { Key = start, RangeEnd = end, Limit = 1000, Revision = revision };
            var response = await ReadAsync(() => _client.RangeAsync(request, cancellationToken), "read " + full).ConfigureAwait(false);
            if (revision == 0)
            {
                revision = response.Header.Revision;
                Current(revision, floor, "a read of " + full);
            }

            foreach (var kv in response.Kvs)
            {
                // The range [full, full+1) also holds siblings such as "dirx" for "dir": keep the subtree only.
                if (InSubtree(kv.Key.Span, full))
                {
                    items.Add(ToItem(kv));
                }
            }

            if (!response.More || response.Kvs.Count == 0)
            {
                Seen(revision);
                return (items, revision);
            }

            start = After(response.Kvs[^1].Key);
        }

        throw new StoreException($"Reading the subtree {full} took more than {MaxListRounds} ranges.");
    }

    /// <inheritdoc />
    /// <remarks>A linearizable read (count only, of one key) answers with the cluster's current revision, which
    /// includes every write acknowledged before it; repeated briefly if <paramref name="revision"/> is still ahead.</remarks>
    public async Task<long> SyncAsync(long revision, CancellationToken cancellationToken = default)
    {
        // Only a revision nobody has written yet can be ahead of a linearizable read: poll, bounded by the
        // request timeout.
        var started = _time.GetTimestamp();
        var poll = StoreRetries.Sync.Build(_time, ex => ex is NotYetThereException && _time.GetElapsedTime(started) <= _options.RequestTimeout);
        try
        {
            return await poll.ExecuteAsync(async ct =>
            {
                var request = new RangeRequest { Key = _rootKey, CountOnly = true };
                var floor = SeenRevision;
                var response = await ReadAsync(() => _client.RangeAsync(request, ct), "sync").ConfigureAwait(false);
                var reached = response.Header.Revision;
                Current(reached, floor, "a sync");
                return reached >= revision ? reached : throw new NotYetThereException(reached);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (NotYetThereException ex)
        {
            throw new StoreException($"etcd is at revision {ex.Reached}, below the {revision} asked for, after {_options.RequestTimeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>A sync poll found etcd below the revision asked for (retried by <see cref="StoreRetries.Sync"/>).</summary>
    private sealed class NotYetThereException(long reached) : Exception
    {
        public long Reached { get; } = reached;
    }

    private async Task<StorePage> ListOnceAsync(string prefix, int limit, string? after, CancellationToken cancellationToken)
    {
        var items = new List<StoreItem>(Math.Min(limit + 1, 1024));
        var prefixLength = System.Text.Encoding.UTF8.GetByteCount(prefix);
        // Start just after the previous page's last child ("\0" is below every key character).
        var start = ByteString.CopyFromUtf8(after is null ? prefix : prefix + after + "\0");
        var end = EtcdKeys.PrefixEnd(prefix);
        long revision = 0;
        var floor = SeenRevision;
        for (var round = 0; round < MaxListRounds; round++)
        {
            // Pinned to the first range's revision, so every page of one listing reflects one state.
            var request = new RangeRequest { Key = start, RangeEnd = end, Limit = limit + 1 - items.Count, Revision = revision };
            var response = await ReadAsync(() => _client.RangeAsync(request, cancellationToken), "list " + prefix).ConfigureAwait(false);
            if (revision == 0)
            {
                revision = response.Header.Revision;
                Current(revision, floor, "a listing of " + prefix);
            }

            ByteString? next = null;
            foreach (var kv in response.Kvs)
            {
                var slash = kv.Key.Span[prefixLength..].IndexOf((byte)'/');
                if (slash < 0)
                {
                    items.Add(ToItem(kv));
                    next = After(kv.Key);
                }
                else
                {
                    // A grandchild: skip the rest of that child's subtree in one jump.
                    next = EtcdKeys.PrefixEnd(kv.Key.Span[..(prefixLength + slash + 1)]);
                }

                if (items.Count > limit)
                {
                    break;
                }
            }

            if (items.Count > limit || !response.More || next is null)
            {
                break;
            }

            start = next;
        }

        Seen(revision);
        var more = items.Count > limit;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }

        return new StorePage(items, more ? StoreKeys.Name(items[^1].Key) : null, revision);
    }

    /// <summary>The smallest key after <paramref name="key"/>.</summary>
    private static ByteString After(ByteString key)
    {
        var bytes = new byte[key.Length + 1];
        key.Span.CopyTo(bytes);
        return ByteString.CopyFrom(bytes);
    }

    /// <summary>Whether <paramref name="key"/> is <paramref name="full"/> itself or below <c>full/</c>.</summary>
    private static bool InSubtree(ReadOnlySpan<byte> key, string full)
    {
        // The whole root ("/<root>/", from the empty prefix) has no siblings to filter: its range is exactly the root.
        var length = System.Text.Encoding.UTF8.GetByteCount(full);
        return full.EndsWith('/') || key.Length == length || (key.Length > length && key[length] == (byte)'/');
    }
}
