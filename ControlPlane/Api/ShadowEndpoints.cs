using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary><c>GET /v1/cells/{cell}/shadow</c>: the reports of the shadow directors following a cell (docs/cells.md,
/// "Shadow directors"), read from their records; any director answers.</summary>
internal static class ShadowEndpoints
{
    public static RouteGroupBuilder MapShadowEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/cells/{cell}/shadow", ShadowsAsync)
            .WithTags("Cluster")
            .WithName("GetCellShadows")
            .WithSummary("The shadow directors following the cell, each with how its placements compared with the leader's (an empty list when none runs).")
            .Produces<IReadOnlyList<ShadowReport>>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    /// <summary>One listing of <c>meta/shadows/&lt;cell&gt;</c> (plus the registry read for a named cell): O(shadows ×
    /// 100 differences). A record this build cannot read is left out.</summary>
    private static async Task<IResult> ShadowsAsync(string cell, StoreConnection connection, CellQueries cells, CancellationToken cancellationToken)
    {
        if (Cells.Problem(cell) is { } problem)
        {
            return Problems.Field("cell", problem);
        }

        if (!await cells.ExistsAsync(cell, cancellationToken))
        {
            return Problems.NotFound($"No cell '{cell}': a named cell exists once an agent with Agent:Cell={cell} has started (GET /v1/cells lists them).");
        }

        var store = await connection.GetAsync(cancellationToken);
        var items = await StoreReads.ListAllAsync(store, StoreLayout.ShadowsOf(cell), cancellationToken);
        IReadOnlyList<ShadowReport> reports = [.. items.Select(StoreReads.TryParse<ShadowReport>).OfType<ShadowReport>().OrderBy(r => r.DirectorId, StringComparer.Ordinal)];
        return TypedResults.Ok(reports);
    }
}
