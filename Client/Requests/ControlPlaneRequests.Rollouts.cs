using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;

namespace ControlPlane.Client;

/// <summary>The progressive feature rollout calls (docs/cells.md, "Progressive feature rollout").</summary>
public static partial class ControlPlaneRequest
{
    /// <summary><c>POST /v1/cells/{cell}/rollouts</c>: not repeatable (a retry after an unknown outcome may find it running: 409).</summary>
    public static ControlPlaneRequest<RolloutView> StartRollout(string cell, RolloutSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(HttpMethod.Post, $"v1/cells/{Segment(cell)}/rollouts", repeatable: false, ContractJson.Serialize(spec));
    }

    /// <summary><c>GET /v1/cells/{cell}/rollouts</c>.</summary>
    public static ControlPlaneRequest<IReadOnlyList<RolloutView>> GetRollouts(string cell) => Read<IReadOnlyList<RolloutView>>($"v1/cells/{Segment(cell)}/rollouts");

    /// <summary><c>GET /v1/cells/{cell}/rollouts/{feature}</c>.</summary>
    public static ControlPlaneRequest<RolloutView> GetRollout(string cell, string feature) => Read<RolloutView>($"v1/cells/{Segment(cell)}/rollouts/{Segment(feature)}");

    /// <summary><c>POST /v1/cells/{cell}/rollouts/{feature}/halt</c>; repeatable (halting a halted rollout changes nothing).</summary>
    public static ControlPlaneRequest<RolloutView> HaltRollout(string cell, string feature) =>
        new(HttpMethod.Post, $"v1/cells/{Segment(cell)}/rollouts/{Segment(feature)}/halt", repeatable: true);
}
