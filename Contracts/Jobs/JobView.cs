namespace ControlPlane.Contracts.Jobs;

/// <summary>A job as the REST API returns it (<c>GET /v1/jobs/{id}</c>).</summary>
public sealed record JobView
{
    /// <summary>Job id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The cell the job lives in (docs/cells.md); always present, <c>default</c> included.</summary>
    public string Cell { get; init; } = Cells.Default;

    /// <summary>What was submitted, normalized.</summary>
    public JobSpec Spec { get; init; } = new();

    /// <summary>Current state; Running once the agent has confirmed the start.</summary>
    public JobState State { get; init; }

    /// <summary>Current attempt, from 1.</summary>
    public int Attempt { get; init; }

    /// <summary>Attempts lost through no fault of the job (worker gone, restarted, fenced, drained): they do not
    /// count against <c>maxAttempts</c>.</summary>
    public int Interruptions { get; init; }

    /// <summary>Worker of the current or last attempt.</summary>
    public string? WorkerId { get; init; }

    /// <summary>Leader epoch of the current assignment; with <see cref="Attempt"/> the fencing token.</summary>
    public long Epoch { get; init; }

    /// <summary>Submission time.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Assignment time of the current attempt.</summary>
    public DateTimeOffset? AssignedAt { get; init; }

    /// <summary>Start time of the current attempt.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Time the job reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Exit code of the last attempt.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Tail of the last attempt's output.</summary>
    public string? Output { get; init; }

    /// <summary>Why the last attempt failed or the job was cancelled.</summary>
    public string? Error { get; init; }

    /// <summary>Cancellation was requested and has not completed yet.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>Waiting or Pending: not placed before this time, judged on the leader's clock (its <c>runAt</c> or
    /// <c>delaySeconds</c> while Waiting, its retry backoff while Pending).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Waiting: what it waits for, in words (its time, its dependencies). <c>GET /v1/jobs/{id}/explain</c>
    /// names the dependencies that are not final yet.</summary>
    public string? WaitingFor { get; init; }

    /// <summary>The schedule that created it, if any.</summary>
    public string? ScheduleId { get; init; }

    /// <summary>The workflow it belongs to, if any (<c>GET /v1/workflows/{id}</c>).</summary>
    public string? WorkflowId { get; init; }

    /// <summary>Its node's <c>ref</c> in that workflow.</summary>
    public string? WorkflowRef { get; init; }

    /// <summary>The tick it was created for, when a schedule created it.</summary>
    public DateTimeOffset? ScheduledFor { get; init; }

    /// <summary>The W3C trace id of the job's trace (its submission, placements and runs), when it was traced: search
    /// for it in the tracing backend the directors and agents export to.</summary>
    public string? TraceId { get; init; }

    /// <summary>Store revision this view was read at (or written at, for a submission).</summary>
    public long Revision { get; init; }
}

/// <summary>One page of <c>GET /v1/jobs</c>.</summary>
/// <param name="Items">Jobs of this page, in id order within each bucket.</param>
/// <param name="Cursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
/// <param name="Revision">Store revision the page was read at (the oldest of its reads).</param>
public sealed record JobPage(IReadOnlyList<JobView> Items, string? Cursor, long Revision);
