namespace ControlPlane.Contracts.Directors;

/// <summary>
/// What a shadow director (<c>Director:Mode=shadow</c>, docs/cells.md) found comparing its planner's placements with
/// the ones its cell's leader wrote: its ephemeral record at <c>meta/shadows/&lt;cell&gt;/&lt;directorId&gt;</c>, and one
/// entry of <c>GET /v1/cells/{cell}/shadow</c>.
/// </summary>
public sealed record ShadowReport
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The shadow director's id.</summary>
    public string DirectorId { get; init; } = "";

    /// <summary>Its build version.</summary>
    public string Version { get; init; } = "";

    /// <summary>The cell it follows.</summary>
    public string Cell { get; init; } = "";

    /// <summary>Its <c>Scheduler:Placement</c> (<c>spread</c> or <c>pack</c>).</summary>
    public string Placement { get; init; } = "";

    /// <summary>When it started following the cell (its clock); the counts are since then.</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>When this report was written (its clock).</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>True once the shadow has loaded the cell's state and compares what the leader places; false while it
    /// loads (at start, or after its following failed). A placement made before it loaded is not compared.</summary>
    public bool Following { get; init; }

    /// <summary>Leader placements where the shadow had chosen the same worker.</summary>
    public long Agree { get; init; }

    /// <summary>Leader placements where the shadow had chosen another worker.</summary>
    public long Differ { get; init; }

    /// <summary>Leader placements the shadow had not planned before it saw them and could not place in its view then
    /// (no worker it knew of suited the job: its view lagged).</summary>
    public long Unplanned { get; init; }

    /// <summary>Of <see cref="Agree"/> and <see cref="Differ"/>, the placements the shadow decided only when it saw the
    /// leader's (its planner had not seen the job Pending yet), from its view at that moment.</summary>
    public long Late { get; init; }

    /// <summary>Jobs the shadow has decided and not yet seen the leader place.</summary>
    public int Outstanding { get; init; }

    /// <summary>The last differences (at most 100), oldest first.</summary>
    public IReadOnlyList<ShadowDifference> Differences { get; init; } = [];
}

/// <summary>One placement on which a shadow and its cell's leader differed.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">The attempt the leader placed.</param>
/// <param name="LeaderWorker">Where the leader placed it.</param>
/// <param name="ShadowWorker">Where the shadow would have placed it; null when no worker could take it in its view.</param>
/// <param name="At">When the shadow saw the leader's placement (its clock).</param>
public sealed record ShadowDifference(string JobId, int Attempt, string LeaderWorker, string? ShadowWorker, DateTimeOffset At);
