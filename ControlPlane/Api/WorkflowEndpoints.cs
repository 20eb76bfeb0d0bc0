using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/workflows</c>: submit a graph of jobs at once, read it with its jobs' states, cancel it.</summary>
internal static class WorkflowEndpoints
{
    public static RouteGroupBuilder MapWorkflowEndpoints(this RouteGroupBuilder v1)
    {
        var workflows = v1.MapGroup("/workflows").WithTags("Workflows");
        workflows.MapPost("", SubmitAsync)
            .WithName("SubmitWorkflow")
            .WithSummary("Submits jobs with dependencies between them (refs) as one workflow: all become visible at once, or none.")
            .Accepts<WorkflowSpec>("application/json")
            .Produces<WorkflowView>(StatusCodes.Status201Created)
            .Produces<WorkflowView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        workflows.MapGet("/{id}", GetAsync)
            .WithName("GetWorkflow")
            .WithSummary("Reads a workflow: its state, its jobs' states and the graph between them.")
            .Produces<WorkflowView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        workflows.MapDelete("/{id}", CancelAsync)
            .WithName("CancelWorkflow")
            .WithSummary("Cancels what has not run: Waiting and Pending jobs at once, running ones are asked to stop.")
            .Produces<WorkflowView>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    private static async Task<IResult> SubmitAsync(HttpContext context, WorkflowSubmission submission, JobAdmission admission, CancellationToken cancellationToken)
    {
        if (!RequestHeaders.TryIdempotencyKey(context.Request, out var key, out var keyError))
        {
            return Problems.Field(RequestHeaders.IdempotencyKey, keyError!);
        }

        var (spec, problem) = await SpecReader.ReadAsync<WorkflowSpec>(context.Request, Limits.MaxWorkflowBodyBytes, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var errors = WorkflowValidator.Validate(spec!);
        if (errors.Count > 0)
        {
            return Problems.Fields(errors.Select(e => (e.Field, e.Message)), "Nothing was submitted.");
        }

        // One admission check for the whole workflow, as for one job outside any FIFO group: its jobs start Waiting.
        if (admission.Check(null) is { } refusal)
        {
            admission.CountRefusal(refusal);
            return Problems.TooManyPending(context, refusal);
        }

        var outcome = await submission.SubmitAsync(spec!, key, cancellationToken);
        switch (outcome.Result)
        {
            case WorkflowSubmitResult.Invalid:
                return Problems.Fields(outcome.Errors!.Select(e => (e.Field, e.Message)), "Nothing was submitted.");
            case WorkflowSubmitResult.Conflict:
                return Problems.Conflict(outcome.Detail!);
            case WorkflowSubmitResult.NotCommitted:
                return Problems.Unavailable(context, outcome.Detail!, "The workflow was not submitted.");
        }

        var view = outcome.Workflow!;
        context.Response.Headers.Location = $"/v1/workflows/{view.Id}";
        context.Response.Headers[RequestHeaders.Revision] = view.Revision.ToString(CultureInfo.InvariantCulture);
        return outcome.Result == WorkflowSubmitResult.Created ? TypedResults.Created($"/v1/workflows/{view.Id}", view) : TypedResults.Ok(view);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, StoreConnection connection, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", $"A workflow id is {JobIds.Length} lowercase hex digits.");
        }

        if (!RequestHeaders.TryMinRevision(context.Request, out var minRevision, out var error))
        {
            return Problems.Field("minRevision", error!);
        }

        var store = await connection.GetAsync(cancellationToken);
        if (minRevision is { } wanted)
        {
            await store.SyncAsync(wanted, cancellationToken);
        }

        var item = await store.GetAsync(StoreLayout.Workflow(id), cancellationToken);
        if (item is null)
        {
            return Problems.NotFound($"No workflow {id} (it never existed, or it was removed after its jobs).");
        }

        var view = await WorkflowReads.ViewAsync(store, item, cancellationToken);
        context.Response.Headers[RequestHeaders.Revision] = view.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(view);
    }

    private static async Task<IResult> CancelAsync(string id, HttpContext context, WorkflowCancellation cancellation, CancellationToken cancellationToken)
    {
        if (!JobIds.IsValid(id))
        {
            return Problems.Field("id", $"A workflow id is {JobIds.Length} lowercase hex digits.");
        }

        var view = await cancellation.CancelAsync(id, cancellationToken);
        if (view is null)
        {
            return Problems.NotFound($"No workflow {id}.");
        }

        context.Response.Headers[RequestHeaders.Revision] = view.Revision.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Accepted($"/v1/workflows/{id}", view);
    }
}
