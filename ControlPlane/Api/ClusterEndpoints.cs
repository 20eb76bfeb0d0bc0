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
            .WithSummary("Every cell with its leader, epoch, workers, pending jobs, the director versions allowed to lead it, and why it has no leader when it has none (docs/cells.md).")
            .Produces<IReadOnlyList<CellView>>();
        v1.MapGet("/cells/{cell}/policy", GetPolicyAsync)
            .WithTags("Cluster")
            .WithName("GetCellPolicy")
            .WithSummary("The director versions allowed to lead a cell; 404 when the cell has no policy (any version may lead it).")
            .Produces<CellPolicyRecord>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapPut("/cells/{cell}/policy", PutPolicyAsync)
            .WithTags("Cluster")
            .WithName("PutCellPolicy")
            .WithSummary("Pins a cell to director versions: a director of another version does not campaign there, and resigns it if it leads it (docs/cells.md).")
            .Accepts<CellPolicyRequest>("application/json")
            .Produces<CellPolicyRecord>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        v1.MapDelete("/cells/{cell}/policy", DeletePolicyAsync)
            .WithTags("Cluster")
            .WithName("DeleteCellPolicy")
            .WithSummary("Unpins a cell: any director version may lead it again. Idempotent.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
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

    private static async Task<IResult> GetPolicyAsync(string cell, CellQueries cells, CellPolicyService policies, CancellationToken cancellationToken)
    {
        if (await UnknownCellAsync(cell, cells, cancellationToken) is { } unknown)
        {
            return unknown;
        }

        return await policies.GetAsync(cell, cancellationToken) is { } policy
            ? TypedResults.Ok(policy)
            : Problems.NotFound($"Cell '{cell}' has no policy: any director version may lead it (cpctl cell pin sets one).");
    }

    private static async Task<IResult> PutPolicyAsync(string cell, HttpContext context, CellQueries cells, CellPolicyService policies, CancellationToken cancellationToken)
    {
        if (await UnknownCellAsync(cell, cells, cancellationToken) is { } unknown)
        {
            return unknown;
        }

        var (request, problem) = await SpecReader.ReadAsync<CellPolicyRequest>(context.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (CellPolicies.PatternsProblem(request!.AllowedVersions) is { } invalid)
        {
            return Problems.Field("allowedVersions", invalid);
        }

        var (policy, revision) = await policies.PutAsync(cell, request.AllowedVersions!, cancellationToken);
        context.Response.Headers[RequestHeaders.Revision] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(policy);
    }

    private static async Task<IResult> DeletePolicyAsync(string cell, HttpContext context, CellQueries cells, CellPolicyService policies, CancellationToken cancellationToken)
    {
        if (await UnknownCellAsync(cell, cells, cancellationToken) is { } unknown)
        {
            return unknown;
        }

        var (_, revision) = await policies.DeleteAsync(cell, cancellationToken);
        context.Response.Headers[RequestHeaders.Revision] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.NoContent();
    }

    /// <summary>A 400 for an invalid cell name, a 404 for a cell that does not exist, else null.</summary>
    private static async Task<IResult?> UnknownCellAsync(string cell, CellQueries cells, CancellationToken cancellationToken)
    {
        if (Contracts.Cells.Problem(cell) is { } problem)
        {
            return Problems.Field("cell", problem);
        }

        return await cells.ExistsAsync(cell, cancellationToken)
            ? null
            : Problems.NotFound($"No cell '{cell}': a named cell exists once an agent with Agent:Cell={cell} has started (GET /v1/cells lists them).");
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
