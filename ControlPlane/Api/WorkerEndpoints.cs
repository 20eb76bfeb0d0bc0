using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/workers</c>: registered workers and drain requests.</summary>
internal static class WorkerEndpoints
{
    public static RouteGroupBuilder MapWorkerEndpoints(this RouteGroupBuilder v1)
    {
        var workers = v1.MapGroup("/workers").WithTags("Workers");
        workers.MapGet("", async (WorkerQueries queries, CancellationToken cancellationToken) => TypedResults.Ok(await queries.ListAsync(cancellationToken)))
            .WithName("ListWorkers")
            .WithSummary("Lists registered workers with their load and state (ready, draining, suspect).")
            .Produces<IReadOnlyList<WorkerView>>();
        workers.MapPost("/{id}/drain", DrainAsync)
            .WithName("DrainWorker")
            .WithSummary("Asks a worker to finish its jobs, take no new ones, and leave.")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> DrainAsync(string id, HttpContext context, WorkerQueries queries, CancellationToken cancellationToken)
    {
        // Worker ids become key segments: refuse anything that could not be one before touching the store.
        if (id.Length > 128 || !JobSpecValidator.IsName(id))
        {
            return Problems.Field("id", "A worker id is 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        var (result, revision) = await queries.DrainAsync(id, cancellationToken);
        if (result == DrainResult.NotFound)
        {
            return Problems.NotFound($"No worker {id} is registered.");
        }

        // 202, also when a drain was already requested: the agent acts on the record, asynchronously, once.
        context.Response.Headers[RequestHeaders.Revision] = revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Accepted((string?)null);
    }
}
