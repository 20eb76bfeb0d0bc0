using ControlPlane.Contracts.Rollouts;

namespace ControlPlane.Client;

/// <summary>The progressive feature rollout calls (docs/cells.md, "Progressive feature rollout").</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary><c>POST /v1/cells/{cell}/rollouts</c>: switches <see cref="RolloutSpec.Feature"/> on for a growing share of
    /// <paramref name="cell"/>'s agents, step by step; the cell's leader halts it by itself when jobs fail more often on the
    /// agents that have it.</summary>
    public Task<RolloutView> StartRolloutAsync(string cell, RolloutSpec spec, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.StartRollout(cell, spec), cancellationToken);

    /// <summary><c>GET /v1/cells/{cell}/rollouts</c>: every rollout of the cell.</summary>
    public Task<IReadOnlyList<RolloutView>> GetRolloutsAsync(string cell, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetRollouts(cell), cancellationToken);

    /// <summary><c>GET /v1/cells/{cell}/rollouts/{feature}</c>.</summary>
    public Task<RolloutView> GetRolloutAsync(string cell, string feature, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetRollout(cell, feature), cancellationToken);

    /// <summary><c>POST /v1/cells/{cell}/rollouts/{feature}/halt</c>: the feature goes off on every agent of the cell.</summary>
    public Task<RolloutView> HaltRolloutAsync(string cell, string feature, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.HaltRollout(cell, feature), cancellationToken);
}
