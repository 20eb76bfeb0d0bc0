using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using Microsoft.AspNetCore.Mvc;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/schedules</c>: recurring jobs (docs/schedules.md). Any director serves them; the leader fires.</summary>
internal static class ScheduleEndpoints
{
    private const string IdMessage = "A schedule id is 32 lowercase hex digits.";

    public static RouteGroupBuilder MapScheduleEndpoints(this RouteGroupBuilder v1)
    {
        var schedules = v1.MapGroup("/schedules").WithTags("Schedules");
        schedules.MapPost("", CreateAsync)
            .WithName("CreateSchedule")
            .WithSummary("Creates a schedule; with Idempotency-Key a repeated creation answers the same schedule.")
            .Accepts<ScheduleSpec>("application/json")
            .Produces<ScheduleView>(StatusCodes.Status201Created)
            .Produces<ScheduleView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        schedules.MapGet("", ListAsync)
            .WithName("ListSchedules")
            .WithSummary("Lists schedules a page at a time, in id order.")
            .Produces<SchedulePage>()
            .ProducesValidationProblem();
        schedules.MapGet("/{id}", GetAsync)
            .WithName("GetSchedule")
            .WithSummary("Reads a schedule: its definition, last and next tick, counters and recent runs.")
            .Produces<ScheduleView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPut("/{id}", ReplaceAsync)
            .WithName("ReplaceSchedule")
            .WithSummary("Replaces a schedule's definition; ticks already judged stay judged, a new cron counts from now.")
            .Accepts<ScheduleSpec>("application/json")
            .Produces<ScheduleView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteSchedule")
            .WithSummary("Deletes a schedule; the jobs it created stay as they are.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{id}/pause", PauseAsync)
            .WithName("PauseSchedule")
            .WithSummary("Pauses a schedule: no tick fires until it is resumed.")
            .Produces<ScheduleView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{id}/resume", ResumeAsync)
            .WithName("ResumeSchedule")
            .WithSummary("Resumes a schedule; the ticks it was paused for never fire.")
            .Produces<ScheduleView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapPost("/{id}/trigger", TriggerAsync)
            .WithName("TriggerSchedule")
            .WithSummary("Runs the schedule's job once now, outside the cron.")
            .Produces<JobView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return v1;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (!RequestHeaders.TryIdempotencyKey(context.Request, out var key, out var keyError))
        {
            return Problems.Field(RequestHeaders.IdempotencyKey, keyError!);
        }

        var (spec, problem) = await ReadValidAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await schedules.CreateAsync(spec!, key, cancellationToken);
        if (outcome.Result == ScheduleResult.Conflict)
        {
            return Problems.Conflict($"Idempotency-Key was already used for schedule {outcome.Schedule!.Id} with a different definition.");
        }

        var view = outcome.Schedule!;
        SetRevision(context, view.Revision);
        return outcome.Replayed ? TypedResults.Ok(view) : TypedResults.Created($"/v1/schedules/{view.Id}", view);
    }

    private static async Task<IResult> ListAsync(ScheduleService schedules, [FromQuery] string? limit, [FromQuery] string? cursor, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new List<(string, string)>();
        var pageSize = ScheduleService.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > ScheduleService.MaxLimit))
        {
            errors.Add(("limit", $"Between 1 and {ScheduleService.MaxLimit}."));
        }

        if (cursor is not null && !JobIds.IsValid(cursor))
        {
            errors.Add(("cursor", "Not a cursor returned by this API."));
        }

        if (errors.Count > 0)
        {
            return Problems.Fields(errors);
        }

        var page = await schedules.ListAsync(pageSize, cursor, cancellationToken);
        SetRevision(context, page.Revision);
        return TypedResults.Ok(page);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", IdMessage);
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var error))
        {
            return Problems.Field("minRevision", error!);
        }

        return Answer(context, id, await schedules.GetAsync(id, minRevision, cancellationToken));
    }

    private static async Task<IResult> ReplaceAsync(string id, HttpContext context, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", IdMessage);
        }

        var (spec, problem) = await ReadValidAsync(context, cancellationToken);
        return problem ?? Answer(context, id, await schedules.ReplaceAsync(id, spec!, cancellationToken));
    }

    private static async Task<IResult> DeleteAsync(string id, ScheduleService schedules, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", IdMessage);
        }

        return await schedules.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : Problems.NotFound($"No schedule {id}.");
    }

    private static async Task<IResult> PauseAsync(string id, HttpContext context, ScheduleService schedules, CancellationToken cancellationToken) =>
        !JobIds.IsValid(id) ? Problems.Field("id", IdMessage) : Answer(context, id, await schedules.PauseAsync(id, cancellationToken));

    private static async Task<IResult> ResumeAsync(string id, HttpContext context, ScheduleService schedules, CancellationToken cancellationToken) =>
        !JobIds.IsValid(id) ? Problems.Field("id", IdMessage) : Answer(context, id, await schedules.ResumeAsync(id, cancellationToken));

    private static async Task<IResult> TriggerAsync(string id, HttpContext context, ScheduleService schedules, JobAdmission admission, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", IdMessage);
        }

        var current = await schedules.GetAsync(id, null, cancellationToken);
        if (current.Result == ScheduleResult.NotFound)
        {
            return Problems.NotFound($"No schedule {id}.");
        }

        // A run by hand is a new job like any submission: admission control applies (the leader's ticks are not refused).
        if (admission.Check(current.Schedule!.Spec.Job?.Group) is { } refusal)
        {
            admission.CountRefusal(refusal);
            return Problems.TooManyPending(context, refusal);
        }

        var outcome = await schedules.TriggerAsync(id, cancellationToken);
        if (outcome.Result == ScheduleResult.NotFound)
        {
            return Problems.NotFound($"No schedule {id}.");
        }

        var job = outcome.Job!;
        SetRevision(context, job.Revision);
        return TypedResults.Created($"/v1/jobs/{job.Id}", job);
    }

    private static async Task<(ScheduleSpec? Spec, IResult? Problem)> ReadValidAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var (spec, problem) = await SpecReader.ReadAsync<ScheduleSpec>(context.Request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        var errors = ScheduleValidator.Validate(spec!);
        return errors.Count > 0 ? (null, Problems.Fields(errors)) : (ScheduleValidator.Normalize(spec!), null);
    }

    private static IResult Answer(HttpContext context, string id, ScheduleOutcome outcome)
    {
        if (outcome.Result == ScheduleResult.NotFound)
        {
            return Problems.NotFound($"No schedule {id}.");
        }

        SetRevision(context, outcome.Schedule!.Revision);
        return TypedResults.Ok(outcome.Schedule);
    }

    private static void SetRevision(HttpContext context, long revision) =>
        context.Response.Headers[RequestHeaders.Revision] = revision.ToString(CultureInfo.InvariantCulture);
}
