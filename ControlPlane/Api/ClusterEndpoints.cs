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
            .WithSummary("The leading director, read from the election.")
            .Produces<LeaderView>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
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

    private static async Task<IResult> LeaderAsync(HttpContext context, ClusterQueries queries, CancellationToken cancellationToken)
    {
        var leader = await queries.LeaderAsync(cancellationToken);
        // 503 rather than 404: having no leader is a transient state of the service (an election), not a missing resource.
        return leader is null
            ? Problems.Unavailable(context, "No director leads right now (none is running, or an election is in progress).", "No leader.")
            : TypedResults.Ok(leader);
    }
}
