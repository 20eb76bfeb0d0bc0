using System.Text.Json.Nodes;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Cli.Waiting;

/// <summary>The last view of an awaited workflow, and whether the wait ended before it finished.</summary>
/// <param name="Workflow">The last view.</param>
/// <param name="Body">The same view as the API's JSON.</param>
/// <param name="TimedOut">True when the deadline passed before the workflow finished.</param>
internal sealed record WorkflowWaitOutcome(WorkflowView Workflow, JsonNode? Body, bool TimedOut)
{
    /// <summary>The exit code the outcome stands for: success only when the workflow was committed and every one of its
    /// jobs is known to have Succeeded (a job removed after its retention is not known to have).</summary>
    public int ExitCode => TimedOut ? ExitCodes.WaitTimedOut
        : Workflow.State == WorkflowState.Committed && Workflow.Jobs.All(n => n.State == JobState.Succeeded) ? ExitCodes.Success
        : ExitCodes.NotSucceeded;
}

/// <summary>
/// Waits for a workflow to finish (<c>workflow submit --wait</c>). While few enough of its jobs are open to follow on
/// one event stream (<see cref="JobWaiter.MaxStreamedJobs"/>), it waits for them as <c>cpctl wait</c> does (events from
/// the submission's revision, polling when no director serves the stream), then reads the workflow once for the final
/// view. A larger workflow is polled as a whole, <c>GET /v1/workflows/{id}</c> with <see cref="JobWaiter"/>'s delays:
/// one request per round however many jobs it has, where polling each job would cost one request per open job.
/// </summary>
internal static class WorkflowWaiter
{
    /// <summary>Waits until <paramref name="submitted"/> (as the submission answered, <paramref name="body"/> its JSON)
    /// has finished or <paramref name="timeout"/> has passed on the environment's clock.</summary>
    public static async Task<WorkflowWaitOutcome> WaitAsync(
        CommandContext context, WorkflowView submitted, JsonNode? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = context.Environment.Time;
        var deadline = time.GetUtcNow() + timeout;
        var (workflow, json) = (submitted, body);
        var open = workflow.Jobs.Where(n => n.State is { } state && !state.IsTerminal()).Select(n => n.Job).ToList();
        if (!workflow.Finished && workflow.State == WorkflowState.Committed && open.Count is > 0 and <= JobWaiter.MaxStreamedJobs)
        {
            var jobs = await JobWaiter.WaitAsync(context, open, timeout, workflow.Revision, cancellationToken);
            // At least as new as every job view seen, so the workflow read cannot show an older state of any of them.
            var seen = Math.Max(workflow.Revision, jobs.Jobs.Max(j => j.Revision));
            (workflow, json) = await ReadAsync(context, workflow.Id, seen, cancellationToken);
        }

        if (!workflow.Finished)
        {
            (workflow, json) = await PollAsync(context, workflow, json, deadline, cancellationToken);
        }

        return new WorkflowWaitOutcome(workflow, json, TimedOut: !workflow.Finished);
    }

    private static async Task<(WorkflowView Workflow, JsonNode? Body)> PollAsync(
        CommandContext context, WorkflowView workflow, JsonNode? body, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var time = context.Environment.Time;
        var delay = JobWaiter.FirstDelay;
        // The deadline ends the loop; the round bound only guards against a clock that does not move.
        var maxRounds = (long)((deadline - time.GetUtcNow()) / JobWaiter.MaxDelay) + 64;
        for (var round = 0L; round < maxRounds && !workflow.Finished; round++)
        {
            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            // The last delay is cut to the deadline, so a timeout is reported on time.
            await context.Environment.DelayAsync(delay < left ? delay : left, cancellationToken);
            delay = delay * 2 < JobWaiter.MaxDelay ? delay * 2 : JobWaiter.MaxDelay;
            (workflow, body) = await ReadAsync(context, workflow.Id, workflow.Revision, cancellationToken);
        }

        return (workflow, body);
    }

    /// <summary>Reads the workflow at <paramref name="minRevision"/> or later, so another director never answers with
    /// an older state (or a 404 for a workflow it has not seen yet).</summary>
    private static async Task<(WorkflowView Workflow, JsonNode? Body)> ReadAsync(CommandContext context, string id, long minRevision, CancellationToken cancellationToken)
    {
        var response = await context.Api.SendAsync(ControlPlaneRequest.GetWorkflow(id, minRevision), cancellationToken);
        return (response.Value, JsonOutput.Node(response.Content));
    }
}
