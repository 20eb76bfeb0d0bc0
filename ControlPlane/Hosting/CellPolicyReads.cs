using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Hosting;

/// <summary>Reading cells' leadership policies, <c>meta/cell-policies/&lt;cell&gt;</c> (docs/cells.md,
/// "Version-gated leadership"), and judging a director version against one.</summary>
internal static class CellPolicyReads
{
    /// <summary>Every cell's policy, by cell: one listing of at most <see cref="CellRegistry.MaxCells"/> records (a damaged
    /// record reads as allowing no version, see <see cref="Parse"/>).</summary>
    public static async Task<IReadOnlyDictionary<string, CellPolicyRecord>> ListAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        var page = await store.ListAsync(StoreLayout.CellPolicies, new ListOptions(CellRegistry.MaxCells), cancellationToken).ConfigureAwait(false);
        var policies = new Dictionary<string, CellPolicyRecord>(StringComparer.Ordinal);
        foreach (var item in page.Items)
        {
            if (Parse(item) is { } policy)
            {
                policies[policy.Cell] = policy;
            }
        }

        return policies;
    }

    /// <summary><paramref name="cell"/>'s policy, or null when it has none (one read).</summary>
    public static async Task<CellPolicyRecord?> ReadAsync(ICoordinationStore store, string cell, CancellationToken cancellationToken) =>
        await store.GetAsync(StoreLayout.CellPolicy(cell), cancellationToken).ConfigureAwait(false) is { } item ? Parse(item) : null;

    /// <summary>The policy in <paramref name="item"/>; a record that is not one, or whose patterns this build refuses,
    /// reads as a policy that allows no version, so a damaged record keeps every director out rather than letting
    /// every one in (an operator rewrites it with <c>cpctl cell pin</c> or removes it with <c>cpctl cell unpin</c>).</summary>
    public static CellPolicyRecord? Parse(StoreItem item)
    {
        var cell = StoreKeys.Name(item.Key);
        if (!Cells.IsValid(cell))
        {
            return null;
        }

        try
        {
            var policy = ContractJson.Deserialize<CellPolicyRecord>(item.Value.Span);
            if (policy.Cell == cell && CellPolicies.PatternsProblem(policy.AllowedVersions) is null)
            {
                return policy;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Damaged: treated as allowing nothing, below.
        }

        return new CellPolicyRecord { Cell = cell, AllowedVersions = [] };
    }

    /// <summary>Null when <paramref name="policy"/> (null: none) lets a director of <paramref name="version"/> lead, else
    /// why not.</summary>
    public static string? Veto(CellPolicyRecord? policy, string version) => policy switch
    {
        null => null,
        { AllowedVersions.Count: 0 } => $"the cell's policy record ({StoreLayout.CellPolicy(policy.Cell)}) is damaged and allows no version; rewrite it with cpctl cell pin or remove it with cpctl cell unpin",
        _ when CellPolicies.Allows(policy.AllowedVersions, version) => null,
        _ => $"its policy allows versions {string.Join(", ", policy.AllowedVersions)}; this director runs {version}",
    };
}
