using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>What the audit keeps from each watch update.</summary>
public sealed partial class StoreAudit
{
    private void Apply(WatchUpdate update, string prefix, Action<StoreItem> onItem, Action<string, long>? onDelete)
    {
        lock (_lock)
        {
            switch (update)
            {
                case WatchResync resync:
                    foreach (var item in resync.Items)
                    {
                        onItem(item);
                    }

                    // A candidate of this watch's cell known before and missing now was deleted at or before this
                    // revision (the other cells' candidates are another watch's business).
                    if (onDelete is not null)
                    {
                        var present = resync.Items.Select(i => i.Key).ToHashSet();
                        foreach (var key in _candidates.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !present.Contains(k)).ToList())
                        {
                            onDelete(key, resync.Revision);
                        }
                    }

                    break;
                case WatchChanges changes:
                    foreach (var change in changes.Changes)
                    {
                        if (change.Item is { } item)
                        {
                            onItem(item);
                        }
                        else
                        {
                            onDelete?.Invoke(change.Key, change.Revision);
                        }
                    }

                    break;
            }
        }
    }

    private void OnAssignment(string cell, StoreItem item)
    {
        if (item.Value.Length == 0 || _assignments.ContainsKey(item.Key + "@" + item.CreateRevision))
        {
            return;
        }

        try
        {
            var record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
            _assignments[item.Key + "@" + item.CreateRevision] = new(cell, item.Key, record.JobId, record.Attempt, record.Epoch, item.CreateRevision);
        }
        catch (JsonException)
        {
            // Not an assignment (a ZooKeeper directory node would have no value): nothing to audit.
        }
    }

    private void OnCandidate(string cell, StoreItem item)
    {
        _candidates[item.Key] = item.CreateRevision;
        _epochCells[item.CreateRevision] = cell;
    }

    private void OnCandidateGone(string key, long revision)
    {
        if (_candidates.Remove(key, out var epoch) && !_deposedBy.ContainsKey(epoch))
        {
            _deposedBy[epoch] = revision;
        }
    }
}
