namespace ControlPlane.Contracts.Workflows;

/// <summary>Where a workflow's submission stands.</summary>
public enum WorkflowState
{
    /// <summary>Its jobs are being written in chunks; none of them may start until it is <see cref="Committed"/>.</summary>
    Staging,

    /// <summary>Every job was written and the workflow was committed in one write: its jobs run as their dependencies allow.</summary>
    Committed,

    /// <summary>The submission did not complete (its director failed, or it was cancelled while staging): the jobs
    /// written so far end Skipped and never run.</summary>
    Aborted,
}

/// <summary>
/// The persistent record at <c>workflows/&lt;id&gt;</c>: the gate of a workflow's jobs. The accepting director creates
/// it <see cref="WorkflowState.Staging"/>, writes the jobs in chunks each conditioned on this record's version, and
/// commits by updating it to <see cref="WorkflowState.Committed"/>; the leader releases no job of a workflow before it
/// sees that commit (and every job written before it). A staging workflow whose director did not commit by
/// <see cref="StagingUntil"/> is aborted by the leader. Removed by the leader once its jobs are gone.
/// </summary>
public sealed record WorkflowRecord
{
    /// <summary>Fields this build does not know, kept across rewrites (rolling upgrades).</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Unknown { get; init; }

    /// <summary>Schema version of this record (<see cref="Protocol.SchemaVersion"/>).</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>Workflow id (32 lowercase hex digits, like a job id).</summary>
    public string Id { get; init; } = "";

    /// <summary>The submitted name, if any.</summary>
    public string? Name { get; init; }

    /// <summary>Where the submission stands.</summary>
    public WorkflowState State { get; init; } = WorkflowState.Staging;

    /// <summary>How many jobs it has; node <c>i</c>'s job id is <see cref="WorkflowIds.NodeJobId"/>(id, i).</summary>
    public int Nodes { get; init; }

    /// <summary>SHA-256 (hex) of the normalized spec: a repeated submission with the same Idempotency-Key must match.</summary>
    public string SpecHash { get; init; } = "";

    /// <summary>When a director accepted it (its clock).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Staging: the accepting director commits before this instant (its clock) or the leader aborts it.</summary>
    public DateTimeOffset? StagingUntil { get; init; }

    /// <summary>When it was committed.</summary>
    public DateTimeOffset? CommittedAt { get; init; }

    /// <summary>When it was aborted.</summary>
    public DateTimeOffset? AbortedAt { get; init; }

    /// <summary>Aborted: why.</summary>
    public string? Error { get; init; }

    /// <summary>A client asked to cancel it (<c>DELETE /v1/workflows/{id}</c>); its unfinished jobs are cancelled.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>W3C <c>traceparent</c> of the submission, when traced; every node's job joins this trace.</summary>
    public string? TraceParent { get; init; }
}
