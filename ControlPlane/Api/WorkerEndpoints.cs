using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using Microsoft.AspNetCore.Mvc;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/workers</c>: registered workers and drain requests.</summary>
internal static class WorkerEndpoints
{
    public static RouteGroupBuilder MapWorkerEndpoints(this RouteGroupBuilder v1)
    {
        var workers = v1.MapGroup("/workers").WithTags("Workers");
        workers.MapGet("", ListAsync)
            .WithName("ListWorkers")
            .WithSummary("Lists registered workers a page at a time, in id order, with their load and state (ready, draining, suspect).")
            .Produces<WorkerPage>()
            .ProducesValidationProblem();
        workers.MapPost("/{id}/drain", DrainAsync)
            .WithName("DrainWorker")
            .WithSummary("Asks a worker to finish its jobs, take no new ones, and leave.")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        workers.MapPost("/{id}/undrain", UndrainAsync)
            .WithName("UndrainWorker")
            .WithSummary("Takes a drain request back: an agent still finishing its jobs takes work again; a request left behind by an agent that died is removed. Idempotent.")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> ListAsync(
        HttpContext context,
        WorkerQueries queries,
        [FromQuery] string? limit,
        [FromQuery] string? cursor,
        CancellationToken cancellationToken)
    {
        // As for jobs: parameters arrive as strings and every bad one is named in one 400.
        var errors = new List<(string, string)>();
        var pageSize = WorkerQueries.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > WorkerQueries.MaxLimit))
        {
            errors.Add(("limit", $"Between 1 and {WorkerQueries.MaxLimit}."));
        }

        WorkerCursor? position = null;
        if (cursor is not null && !WorkerCursor.TryDecode(cursor, out position))
        {
            errors.Add(("cursor", "Not a cursor returned by this API."));
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var revisionError))
        {
            errors.Add(("minRevision", revisionError!));
        }

        if (errors.Count > 0)
        {
            return Problems.Fields(errors);
        }

        var page = await queries.ListAsync(new WorkerQuery(pageSize, position, minRevision), cancellationToken);
        context.Response.Headers[RequestHeaders.Revision] = page.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(page);
    }

    private static async Task<IResult> UndrainAsync(string id, HttpContext context, WorkerQueries queries, CancellationToken cancellationToken)
    {
        if (id.Length > 128 || !JobSpecValidator.IsName(id))
        {
            return Problems.Field("id", "A worker id is 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        var (result, revision) = await queries.UndrainAsync(id, cancellationToken);
        if (result == UndrainResult.NotFound)
        {
            return Problems.NotFound($"No worker {id} is registered, and no drain request of it is left.");
        }

        // 202 also when no drain was requested: the agent acts on the record's absence, asynchronously.
        context.Response.Headers[RequestHeaders.Revision] = revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Accepted((string?)null);
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
