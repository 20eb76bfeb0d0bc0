using ControlPlane.Contracts.Directors;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/leader</c> and <c>/v1/cluster</c>: who leads, which directors live, how the store looks.</summary>
internal static class ClusterEndpoints
{
    public static RouteGroupBuilder MapClusterEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/leader", LeaderAsync)
            .WithTags("Cluster")
            .WithName("GetLeader")
            .WithSummary("The leading director of the default cell, or of the cell named by ?cell=, read from its election.")
            .Produces<LeaderView>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapGet("/cells", async (CellQueries queries, CancellationToken cancellationToken) => TypedResults.Ok(await queries.ListAsync(cancellationToken)))
            .WithTags("Cluster")
            .WithName("GetCells")
            .WithSummary("Every cell with its leader, epoch, workers and pending jobs (docs/cells.md).")
            .Produces<IReadOnlyList<CellView>>();
        v1.MapGet("/cluster", async (ClusterQueries queries, CancellationToken cancellationToken) => TypedResults.Ok(await queries.ClusterAsync(cancellationToken)))
            .WithTags("Cluster")
            .WithName("GetCluster")
            .WithSummary("Live directors, the leader and the store as this director sees it.")
            .Produces<ClusterView>();
        v1.MapGet("/doctor", async (Doctor.ClusterDoctor doctor, CancellationToken cancellationToken) => TypedResults.Ok(await doctor.RunAsync(cancellationToken)))
            .WithTags("Cluster")
            .WithName("GetDoctor")
            .WithSummary("Checks the cluster (leader, store, timing, versions, workers, records): OK, WARN or FAIL each, with what to do.")
            .Produces<Contracts.Doctor.DoctorReport>();
        return v1;
    }

    private static async Task<IResult> LeaderAsync(HttpContext context, ClusterQueries queries, CellQueries cells, [Microsoft.AspNetCore.Mvc.FromQuery] string? cell, CancellationToken cancellationToken)
    {
        if (cell is not null && Contracts.Cells.Problem(cell) is { } problem)
        {
            return Problems.Field("cell", problem);
        }

        if (cell is not null && !await cells.ExistsAsync(cell, cancellationToken))
        {
            return Problems.Field("cell", $"No cell '{cell}': a named cell exists once an agent with Agent:Cell={cell} has started (GET /v1/cells lists them).");
        }

        var leader = cell is null ? await queries.LeaderAsync(cancellationToken) : await cells.LeaderAsync(cell, cancellationToken);
        // 503 rather than 404: having no leader is a transient state of the service (an election), not a missing resource.
        return leader is null
            ? Problems.Unavailable(context, $"No director leads {(cell is null ? "" : $"cell {cell} ")}right now (none is running, or an election is in progress).", "No leader.")
            : TypedResults.Ok(leader);
    }
}
