using System.Collections.Immutable;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;

namespace ControlPlane.Director.Api;

/// <summary>
/// The current leader's published pending counts, read from two watch caches: one of <c>status/queue</c>, one of the
/// election candidates. Reading <see cref="Current"/> touches no store and parses the record once per version.
/// </summary>
/// <remarks>
/// The record counts only while its epoch is the current leader's (the candidate with the lowest creation revision).
/// A record left by an earlier leader, or one with no leader at all, would otherwise refuse submissions on counts
/// nobody keeps any more; with this rule the limits are off from the moment the old leader's key is gone until the
/// new leader publishes after its first pass. The rule compares store revisions only, never clocks.
/// </remarks>
internal sealed class QueueStatusView(WatchCache status, WatchCache election, ILogger logger)
{
    private volatile ParsedStatus? _parsed;
    private volatile LeaderEpoch? _leader;

    /// <summary>The current leader's counts, or null when there are none to trust (nothing is refused then).</summary>
    public QueueStatusRecord? Current =>
        status.Items.TryGetValue(StoreLayout.QueueStatus, out var item)
        && Parse(item) is { } record
        && LeaderEpochOf(election.Items) is { } epoch
        && record.Epoch == epoch
            ? record
            : null;

    /// <summary>The leader's epoch: the lowest creation revision among the candidates, the direct children of the
    /// election key (on ZooKeeper the election key itself is a directory node, not a candidate); null when none.</summary>
    internal static long? LeaderEpochAmong(IEnumerable<StoreItem> items)
    {
        var prefix = StoreLayout.Election + "/";
        long? lowest = null;
        foreach (var item in items)
        {
            if (item.Key.Length > prefix.Length && item.Key.StartsWith(prefix, StringComparison.Ordinal)
                && item.Key.IndexOf('/', prefix.Length) < 0 && (lowest is null || item.CreateRevision < lowest))
            {
                lowest = item.CreateRevision;
            }
        }

        return lowest;
    }

    private long? LeaderEpochOf(ImmutableSortedDictionary<string, StoreItem> items)
    {
        // The cache hands out a new snapshot only when something changed: computed once per snapshot.
        if (_leader is { } known && ReferenceEquals(known.Items, items))
        {
            return known.Epoch;
        }

        var epoch = LeaderEpochAmong(items.Values);
        _leader = new LeaderEpoch(items, epoch);
        return epoch;
    }

    private QueueStatusRecord? Parse(StoreItem item)
    {
        if (_parsed is { } known && ReferenceEquals(known.Item, item))
        {
            return known.Record;
        }

        QueueStatusRecord? record = null;
        try
        {
            record = ContractJson.Deserialize<QueueStatusRecord>(item.Value.Span);
        }
        catch (JsonException e)
        {
            // Unreadable counts refuse nothing: admission control must never be the reason the API is down.
            Log.QueueStatusUnreadable(logger, item.Key, e.Message);
        }

        _parsed = new ParsedStatus(item, record);
        return record;
    }

    private sealed record ParsedStatus(StoreItem Item, QueueStatusRecord? Record);

    private sealed record LeaderEpoch(ImmutableSortedDictionary<string, StoreItem> Items, long? Epoch);
}
