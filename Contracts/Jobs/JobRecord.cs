namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// The persistent record at <c>jobs/&lt;bucket&gt;/&lt;id&gt;</c>: the spec and the director-side status.
/// Written by the director that accepted the job, by the leader (assignment, requeue, result, removal) and by any
/// director to request cancellation, always with a version condition. The agent never writes it: its reports go
/// to the assignment record, and the leader folds the result in.
/// </summary>
public sealed record JobRecord
{
    /// <summary>Fields this build does not know, kept so that rewriting the record (the leader folding a result,
    /// an agent reporting) does not drop what a newer writer added during a rolling upgrade.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Unknown { get; init; }

    /// <summary>Schema version of this record (<see cref="Protocol.SchemaVersion"/>).</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>Job id (<see cref="JobIds"/>).</summary>
    public string Id { get; init; } = "";

    /// <summary>What was submitted, normalized.</summary>
    public JobSpec Spec { get; init; } = new();

    /// <summary>Director-side state. A job in <see cref="JobState.Assigned"/> is reported as Running once its
    /// assignment says so (the agent's report lives in the assignment record).</summary>
    public JobState State { get; init; } = JobState.Pending;

    /// <summary>Current attempt, from 1. Increases each time the job goes back to Pending.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>Attempts lost through no fault of the job (its worker left, restarted, was fenced or drained, or
    /// never started it). They do not count against <see cref="JobSpec.MaxAttempts"/>: the attempts the job itself
    /// has used are <see cref="Attempt"/> less this.</summary>
    public int Interruptions { get; init; }

    /// <summary>Worker of the current attempt while Assigned/Running; the last worker once finished.</summary>
    public string? WorkerId { get; init; }

    /// <summary>Leader epoch that made the current assignment (the first half of the fencing token).</summary>
    public long Epoch { get; init; }

    /// <summary>When a director accepted the job (its clock).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the current attempt was assigned.</summary>
    public DateTimeOffset? AssignedAt { get; init; }

    /// <summary>When the agent started the current (or last) attempt.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Exit code of the last attempt, when it ran to an exit.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Tail of the last attempt's combined output (at most <see cref="Limits.OutputTailBytes"/>).</summary>
    public string? Output { get; init; }

    /// <summary>Why the last attempt failed or the job was cancelled.</summary>
    public string? Error { get; init; }

    /// <summary>A client asked to cancel; the leader carries it to the assignment.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>A Pending job is not placed before this time (retry backoff); a Waiting job is not released before it
    /// (its <c>runAt</c>, or the accepting director's clock plus <c>delaySeconds</c>). Judged on the leader's clock.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Idempotency key the job was submitted with, so the key's record can be removed with the job.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The schedule that created it, if any.</summary>
    public string? ScheduleId { get; init; }

    /// <summary>For a job a schedule created: the tick it was created for (for a run by hand, when it was asked for).</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>W3C <c>traceparent</c> of the span that created the job (the accepting director's submission), when
    /// tracing was on there: every attempt's placement and run joins this trace. Null when nobody traced it.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The workflow it belongs to, if any: it is not released before that workflow is committed.</summary>
    public string? WorkflowId { get; init; }

    /// <summary>Its node's <c>ref</c> in <see cref="WorkflowId"/>.</summary>
    public string? WorkflowRef { get; init; }
}
