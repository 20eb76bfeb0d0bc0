using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The one owner of every change of a workflow record's state: staged by the accepting director, committed by it,
/// aborted by it, by a cancellation or by the leader, and asked to cancel. Pure functions of the record and a clock.
/// </summary>
internal static class WorkflowTransitions
{
    /// <summary>A new workflow as its accepting director first writes it: Staging until <paramref name="stagingUntil"/>.</summary>
    public static WorkflowRecord Staged(string id, string? name, int nodes, string specHash, DateTimeOffset now, DateTimeOffset stagingUntil, string? traceParent) => new()
    {
        Id = id,
        Name = name,
        State = WorkflowState.Staging,
        Nodes = nodes,
        SpecHash = specHash,
        CreatedAt = now,
        StagingUntil = stagingUntil,
        TraceParent = traceParent,
    };

    /// <summary>Staging → Committed: every job was written. From now on the leader may release them.</summary>
    public static WorkflowRecord Committed(WorkflowRecord workflow, DateTimeOffset now) =>
        workflow with { State = WorkflowState.Committed, CommittedAt = now, StagingUntil = null };

    /// <summary>Staging → Aborted: the jobs written so far end Skipped, naming <paramref name="why"/>.</summary>
    public static WorkflowRecord Aborted(WorkflowRecord workflow, string why, DateTimeOffset now) =>
        workflow with { State = WorkflowState.Aborted, AbortedAt = now, StagingUntil = null, Error = why };

    /// <summary>A client asked to cancel it: a staging workflow is aborted, a committed one keeps the request (its
    /// unfinished jobs are cancelled one by one).</summary>
    public static WorkflowRecord CancelRequested(WorkflowRecord workflow, DateTimeOffset now) =>
        workflow.State == WorkflowState.Staging
            ? Aborted(workflow, "cancelled while it was being submitted", now) with { CancelRequested = true }
            : workflow with { CancelRequested = true };
}
