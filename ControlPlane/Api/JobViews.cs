using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>
/// Turns job records into API views. The job record says Assigned until the leader folds in the agent's result;
/// the agent's start is in the assignment record, so an Assigned job whose assignment has been started is
/// reported Running with the assignment's start time (docs/protocol.md).
/// </summary>
internal static class JobViews
{
    /// <summary>Reads the current attempt's assignment of an Assigned job; null for any other job.</summary>
    public static async Task<StoreItem?> ReadAssignmentAsync(ICoordinationStore store, JobRecord job, CancellationToken cancellationToken)
    {
        if (job.State != JobState.Assigned || string.IsNullOrEmpty(job.WorkerId) || !JobSpecValidator.IsName(job.WorkerId))
        {
            return null;
        }

        return await store.GetAsync(StoreLayout.Assignment(job.WorkerId, job.Id, job.Attempt), cancellationToken);
    }

    /// <summary>The view of <paramref name="job"/>, overlaid with its assignment when one was read.</summary>
    public static JobView From(JobRecord job, StoreItem? assignmentItem, long revision)
    {
        var view = new JobView
        {
            Id = job.Id,
            Spec = job.Spec,
            State = job.State,
            Attempt = job.Attempt,
            Interruptions = job.Interruptions,
            WorkerId = job.WorkerId,
            Epoch = job.Epoch,
            CreatedAt = job.CreatedAt,
            AssignedAt = job.AssignedAt,
            StartedAt = job.StartedAt,
            FinishedAt = job.FinishedAt,
            ExitCode = job.ExitCode,
            Output = job.Output,
            Error = job.Error,
            CancelRequested = job.CancelRequested,
            NotBefore = job.State is JobState.Waiting or JobState.Pending ? job.NotBefore : null,
            WaitingFor = job.State == JobState.Waiting ? JobTransitions.WaitingFor(job) : null,
            ScheduleId = job.ScheduleId,
            WorkflowId = job.WorkflowId,
            WorkflowRef = job.WorkflowRef,
            ScheduledFor = job.ScheduledFor,
            TraceId = Tracing.TraceIdOf(job.TraceParent),
            Revision = revision,
        };
        if (assignmentItem is null)
        {
            return view;
        }

        AssignmentRecord assignment;
        try
        {
            assignment = ContractJson.Deserialize<AssignmentRecord>(assignmentItem.Value.Span);
        }
        catch (JsonException)
        {
            // The agent logs an unreadable assignment and the leader takes it back; the job record alone is still true.
            return view;
        }

        // Any report past Assigned means the agent started it; a finished report not yet folded in by the
        // leader is still the running attempt from the job's point of view.
        return assignment.State == AttemptState.Assigned
            ? view
            : view with { State = JobState.Running, StartedAt = assignment.StartedAt ?? job.StartedAt, Revision = Math.Max(revision, assignmentItem.ModRevision) };
    }

    /// <summary>Reads the job at <paramref name="item"/> with its overlay.</summary>
    public static async Task<JobView> ReadAsync(ICoordinationStore store, StoreItem item, CancellationToken cancellationToken)
    {
        var job = ContractJson.Deserialize<JobRecord>(item.Value.Span);
        var assignment = await ReadAssignmentAsync(store, job, cancellationToken);
        return From(job, assignment, item.ModRevision);
    }
}
