using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/jobs</c>: submit, read, list and cancel jobs.</summary>
internal static class JobEndpoints
{
    public static RouteGroupBuilder MapJobEndpoints(this RouteGroupBuilder v1)
    {
        var jobs = v1.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Submits a job; with Idempotency-Key a repeated submission answers the same job.")
            .Accepts<JobSpec>("application/json")
            .Produces<JobView>(StatusCodes.Status201Created)
            .Produces<JobView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id}", GetAsync)
            .WithName("GetJob")
            .WithSummary("Reads a job; minRevision (or X-Min-Revision) waits for a view at least that new.")
            .Produces<JobView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        // A literal segment: routing prefers it to /{id}, and "counts" is no job id anyway.
        jobs.MapGet("/counts", Counts)
            .WithName("CountJobs")
            .WithSummary("Jobs per state as the leader last published them (no store read); 503 until a leader has.")
            .Produces<JobCountsView>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id}/explain", ExplainAsync)
            .WithName("ExplainJob")
            .WithSummary("Why the job is (not) running, in plain words with counts; served by any director.")
            .Produces<JobExplanation>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("", ListAsync)
            .WithName("ListJobs")
            .WithSummary("Lists jobs a page at a time, optionally only one state, FIFO group or schedule; minRevision as for one job.")
            .Produces<JobPage>()
            .ProducesValidationProblem();
        jobs.MapDelete("/{id}", CancelAsync)
            .WithName("CancelJob")
            .WithSummary("Requests cancellation; a Pending or Waiting job is cancelled at once.")
            .Produces<JobView>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return v1;
    }

    // The body is read by SpecReader rather than bound as a parameter: binding would run before the token check,
    // answer malformed JSON without naming the field, and stop at the first unknown field instead of naming them all.
    private static async Task<IResult> SubmitAsync(HttpContext context, JobSubmission submission, JobAdmission admission, CancellationToken cancellationToken)
    {
        // Headers first: a bad key is refused before the body is read at all.
        if (!RequestHeaders.TryIdempotencyKey(context.Request, out var key, out var keyError))
        {
            return Problems.Field(RequestHeaders.IdempotencyKey, keyError!);
        }

        var (spec, problem) = await SpecReader.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = JobSpecValidator.Validate(spec!);
        if (errors.Count > 0)
        {
            return Problems.Fields(errors.Select(e => (e.Field, e.Message)));
        }

        // Admission after validation (a bad request is told what is wrong, whatever the load) and before any store request.
        if (admission.Check(spec!.Group) is { } refusal)
        {
            // A replay creates nothing, so no limit applies to it: a client retrying a submission that did land gets
            // its job, not a 429 it would retry until the queue drains. Costs one read, on refused keyed requests only.
            var earlier = key is null ? null : await FindEarlierQuietlyAsync(submission, spec, key, cancellationToken);
            if (earlier is null)
            {
                admission.CountRefusal(refusal);
                return Problems.TooManyPending(context, refusal);
            }

            return Answer(context, earlier);
        }

        return Answer(context, await submission.SubmitAsync(spec, key, cancellationToken));
    }

    /// <summary>An earlier submission with this key, or null when there is none or the store cannot say: either way the
    /// refusal stands, and a retry after <c>Retry-After</c> with the same key is safe.</summary>
    private static async Task<SubmitOutcome?> FindEarlierQuietlyAsync(JobSubmission submission, JobSpec spec, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await submission.FindEarlierAsync(spec, key, cancellationToken);
        }
        catch (StoreException)
        {
            return null;
        }
    }

    private static IResult Answer(HttpContext context, SubmitOutcome outcome)
    {
        switch (outcome.Result)
        {
            case SubmitResult.Conflict:
                return Problems.Conflict($"Idempotency-Key was already used for job {outcome.JobId} with a different job spec.");
            case SubmitResult.Invalid:
                return Problems.Fields(outcome.Errors!.Select(e => (e.Field, e.Message)));
            case SubmitResult.OutcomeUnknown:
                return Problems.Unavailable(
                    context,
                    $"The store did not confirm the write of job {outcome.JobId}: it may or may not exist. Look it up, or submit with an Idempotency-Key header, which makes a retry safe.",
                    "The submission's outcome is unknown.");
        }

        // A replay answers 200, not 201: nothing new was created, but the client gets the same job and location.
        var job = outcome.Job!;
        context.Response.Headers.Location = $"/v1/jobs/{job.Id}";
        context.Response.Headers[RequestHeaders.Revision] = job.Revision.ToString(CultureInfo.InvariantCulture);
        return outcome.Result == SubmitResult.Created ? TypedResults.Created($"/v1/jobs/{job.Id}", job) : TypedResults.Ok(job);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, StoreConnection connection, CancellationToken cancellationToken)
    {
        // A malformed id is the client's mistake (400), not a job that does not exist (404), and never reaches a key.
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", $"A job id is {JobIds.Length} lowercase hex digits.");
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var error))
        {
            return Problems.Field("minRevision", error!);
        }

        var store = await connection.GetAsync(cancellationToken);
        if (minRevision is { } wanted)
        {
            // Read-your-writes across directors: the write was answered by another director with this revision.
            await store.SyncAsync(wanted, cancellationToken);
        }

        // In whichever cell holds it: at most one read per cell, the default cell first (docs/cells.md).
        if (await CellReads.FindJobAsync(store, id, cancellationToken) is not { } found)
        {
            return Problems.NotFound($"No job {id}.");
        }

        var view = await JobViews.ReadAsync(store.ForCell(found.Cell), found.Item, cancellationToken) with { Cell = found.Cell };
        context.Response.Headers[RequestHeaders.Revision] = view.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(view);
    }

    private static IResult Counts(HttpContext context, QueueStatusWatcher status) =>
        status.Current is { Jobs: { } counts } record
            ? TypedResults.Ok(new JobCountsView(counts, record.Epoch, record.At))
            : Problems.Unavailable(context, "No leader has published job counts yet (an election, or a leader of an older version).", "No counts.");

    private static async Task<IResult> ExplainAsync(string id, HttpContext context, JobExplanations explanations, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", $"A job id is {JobIds.Length} lowercase hex digits.");
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var error))
        {
            return Problems.Field("minRevision", error!);
        }

        var explanation = await explanations.ExplainAsync(id, minRevision, cancellationToken);
        if (explanation is null)
        {
            return Problems.NotFound($"No job {id}.");
        }

        context.Response.Headers[RequestHeaders.Revision] = explanation.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(explanation);
    }

    private static async Task<IResult> ListAsync(
        HttpContext context,
        JobListing listing,
        [FromQuery] string? state,
        [FromQuery] string? group,
        [FromQuery] string? schedule,
        [FromQuery] string? limit,
        [FromQuery] string? cursor,
        CancellationToken cancellationToken)
    {
        // Parameters arrive as strings and are checked here, so every bad one is named in one 400.
        var errors = new List<(string, string)>();
        JobState? wantedState = null;
        if (state is not null)
        {
            // Enum.TryParse also accepts numbers ("7"); the API speaks state names only.
            if (Enum.TryParse<JobState>(state, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(state, CultureInfo.InvariantCulture, out _))
            {
                wantedState = parsed;
            }
            else
            {
                errors.Add(("state", $"One of {string.Join(", ", Enum.GetNames<JobState>())}."));
            }
        }

        var pageSize = JobListing.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > JobListing.MaxLimit))
        {
            errors.Add(("limit", $"Between 1 and {JobListing.MaxLimit}."));
        }

        JobCursor? position = null;
        if (cursor is not null && !JobCursor.TryDecode(cursor, out position))
        {
            errors.Add(("cursor", "Not a cursor returned by this API."));
        }

        if (group is { Length: 0 or > Contracts.Limits.MaxGroupLength })
        {
            errors.Add(("group", $"1 to {Contracts.Limits.MaxGroupLength} characters."));
        }

        if (schedule is not null && !JobIds.IsValid(schedule))
        {
            errors.Add(("schedule", "A schedule id is 32 lowercase hex digits."));
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var revisionError))
        {
            errors.Add(("minRevision", revisionError!));
        }

        if (errors.Count > 0)
        {
            return Problems.Fields(errors);
        }

        var page = await listing.ListAsync(new JobQuery(wantedState, group, pageSize, position, minRevision, schedule), cancellationToken);
        context.Response.Headers[RequestHeaders.Revision] = page.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(page);
    }

    private static async Task<IResult> CancelAsync(string id, HttpContext context, JobCancellation cancellation, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", $"A job id is {JobIds.Length} lowercase hex digits.");
        }

        var outcome = await cancellation.CancelAsync(id, cancellationToken);
        switch (outcome.Result)
        {
            case CancelResult.NotFound:
                return Problems.NotFound($"No job {id}.");
            case CancelResult.AlreadyFinished:
                return Problems.Conflict($"Job {id} has already finished ({outcome.Job!.State}).");
        }

        // 202: the request is recorded; a running attempt stops once the leader and the agent have acted on it.
        context.Response.Headers[RequestHeaders.Revision] = outcome.Job!.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Accepted($"/v1/jobs/{id}", outcome.Job);
    }
}
