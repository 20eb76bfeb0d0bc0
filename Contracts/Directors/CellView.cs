namespace ControlPlane.Contracts.Directors;

/// <summary>One cell as <c>GET /v1/cells</c> lists it (docs/cells.md).</summary>
/// <param name="Cell">The cell's name (<c>default</c> for the root's).</param>
/// <param name="Leader">The id of the director leading it; null while none does (an election, or no director campaigns).</param>
/// <param name="LeaderUrl">That director's URL; null with <paramref name="Leader"/>.</param>
/// <param name="Epoch">The leader's epoch: its candidate key's creation revision in this cell; null with <paramref name="Leader"/>.</param>
/// <param name="Workers">Workers registered in the cell now.</param>
/// <param name="Pending">Pending jobs as the cell's current leader last published them; null until it has.</param>
public sealed record CellView(string Cell, string? Leader, string? LeaderUrl, long? Epoch, int Workers, int? Pending)
{
    /// <summary>The director versions allowed to lead the cell (its <see cref="CellPolicyRecord"/>); null when any may.</summary>
    public IReadOnlyList<string>? AllowedVersions { get; init; }

    /// <summary>Why the cell has no leader, when it has none: e.g. that no live director runs an allowed version, naming
    /// the versions that run; null while it has a leader.</summary>
    public string? Waiting { get; init; }
}
