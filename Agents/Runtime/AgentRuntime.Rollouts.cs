using System.Text.Json;
using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;
using ControlPlane.Coordination.Caching;

namespace ControlPlane.Agents.Runtime;

/// <summary>
/// Progressive feature rollouts (docs/cells.md, docs/protocol.md "Agent: rolled-out features"): one watch on the cell's
/// <c>rollouts/</c> tells the agent which experimental features its cell's rollouts have on for it
/// (<see cref="RolloutShares.Has(RolloutRecord, string)"/>: its id's bucket below the step's share). It switches each on or
/// off for itself, advertises the ones on in its registration (so the leader counts its job results in the right group)
/// and takes a feature off as soon as its rollout halts or is deleted.
/// </summary>
internal sealed partial class AgentRuntime
{
    private WatchCache? _rollouts;
    private volatile IReadOnlyList<string> _rolledOut = [];

    /// <summary>The rolled-out features on for this agent now, in ordinal order.</summary>
    public IReadOnlyList<string> RolledOut => _rolledOut;

    /// <summary>Whether the rolled-out <paramref name="feature"/> is on for this agent.</summary>
    internal bool HasRolledOut(string feature) => _rolledOut.Contains(feature, StringComparer.Ordinal);

    /// <summary>Starts the watch and reads the rollouts once, before the registration is written with them.</summary>
    private async Task StartRolloutsAsync(CancellationToken token)
    {
        _rollouts = new WatchCache(_store, StoreLayout.Rollouts, _loggerFactory.CreateLogger<WatchCache>(), _time);
        await _rollouts.StartAsync(token).ConfigureAwait(false);
        _rolledOut = FeaturesOn();
    }

    /// <summary>Follows the rollouts: every change of a record recomputes the features on, and a different set is written
    /// to the registration (at once; with <c>workerHeartbeat</c> through the beat loop, within a second).</summary>
    private async Task FollowRolloutsAsync(CancellationToken token)
    {
        await foreach (var _ in _rollouts!.WatchAppliedAsync(token).ConfigureAwait(false))
        {
            var now = FeaturesOn();
            if (now.SequenceEqual(_rolledOut, StringComparer.Ordinal))
            {
                continue;
            }

            AgentLog.RolledOutFeatures(_logger, WorkerId, string.Join(",", now), string.Join(",", _rolledOut));
            _rolledOut = now;
            if (WorkerBeats)
            {
                RegistrationChanged();
            }
            else
            {
                await WriteRegistrationAsync(token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The features the cell's rollouts have on for this worker. O(rollouts); an unreadable record counts as off.</summary>
    private List<string> FeaturesOn()
    {
        var on = new List<string>();
        foreach (var item in _rollouts!.Items.Values)
        {
            try
            {
                var rollout = ContractJson.Deserialize<RolloutRecord>(item.Value.Span);
                if (RolloutShares.FeatureProblem(rollout.Feature) is null && RolloutShares.Has(rollout, WorkerId))
                {
                    on.Add(rollout.Feature);
                }
            }
            catch (JsonException)
            {
                // Off: a feature is on only when a readable record says so.
            }
        }

        on.Sort(StringComparer.Ordinal);
        return on;
    }
}
