using ControlPlane.Etcd;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Store health on etcd: member list, each member's status, and the compaction revision.</summary>
public sealed partial class EtcdCoordinationStore : IStoreHealth
{
    /// <inheritdoc />
    public async Task<StoreHealth> ReadHealthAsync(IReadOnlyList<string> parents, CancellationToken cancellationToken = default)
    {
        var notes = new List<string>();
        var members = new List<StoreMemberHealth>();
        var alarms = new SortedSet<string>(StringComparer.Ordinal);
        long? dbSize = null, inUse = null;
        long revision = 0;
        var list = await _client.MemberListAsync(cancellationToken).ConfigureAwait(false);
        revision = list.Header?.Revision ?? 0;
        foreach (var member in list.Members)
        {
            var endpoint = member.ClientURLs.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? $"{url.Host}:{url.Port}" : null).FirstOrDefault(e => e is not null);
            var name = string.IsNullOrEmpty(member.Name) ? member.ID.ToString("x", System.Globalization.CultureInfo.InvariantCulture) : member.Name;
            if (endpoint is null)
            {
                members.Add(new StoreMemberHealth(name, null, false, null, null, "it has no client URL (not started yet?)"));
                continue;
            }

            try
            {
                var status = await _client.StatusAsync(endpoint, cancellationToken).ConfigureAwait(false);
                var role = member.IsLearner ? "learner" : status.Leader == status.Header.MemberId ? "leader" : "follower";
                members.Add(new StoreMemberHealth(name, endpoint, true, role, null, null));
                dbSize = Math.Max(dbSize ?? 0, status.DbSize);
                inUse = Math.Max(inUse ?? 0, status.DbSizeInUse);
                revision = Math.Max(revision, status.Header.Revision);
                foreach (var error in status.Errors)
                {
                    alarms.Add(error);
                }
            }
            catch (EtcdException e)
            {
                members.Add(new StoreMemberHealth(name, endpoint, false, null, null, e.Message));
            }
        }

        var compacted = await CompactRevisionAsync(notes, cancellationToken).ConfigureAwait(false);
        return new StoreHealth(members, dbSize, inUse, [.. alarms], compacted, revision, null, notes);
    }

    /// <summary>
    /// etcd reports its compaction revision only to a watch that starts before it: a watch of a key nobody writes,
    /// from revision 1, is cancelled at once with that revision when history was compacted, and otherwise stays
    /// quiet. Costs one watch for at most half a second.
    /// </summary>
    private async Task<long?> CompactRevisionAsync(List<string> notes, CancellationToken cancellationToken)
    {
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            await using var watch = await _client.WatchAsync(_rootPrefix + "meta/doctor-compaction-probe", new EtcdWatchOptions { StartRevision = 1 }, cancellationToken).ConfigureAwait(false);
            await foreach (var _ in watch.ReadAllAsync(quiet.Token).ConfigureAwait(false))
            {
                // Nobody writes the probe key: any batch is a progress notification.
            }
        }
        catch (EtcdCompactedException e)
        {
            return e.CompactRevision;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return 0; // revision 1 is still readable: never compacted
        }
        catch (EtcdException e)
        {
            notes.Add($"compaction revision unknown: {e.Message}");
            return null;
        }

        return null;
    }
}
