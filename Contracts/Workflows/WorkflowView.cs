using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Workflows;

/// <summary>A workflow as the API shows it (<c>GET /v1/workflows/{id}</c>): its submission's state, its jobs' states
/// and the graph between them.</summary>
public sealed record WorkflowView
{
    /// <summary>Workflow id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The submitted name, if any.</summary>
    public string? Name { get; init; }

    /// <summary>Where the submission stands: only a <see cref="WorkflowState.Committed"/> workflow's jobs run.</summary>
    public WorkflowState State { get; init; }

    /// <summary>A client asked to cancel it.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>When a director accepted it.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was committed.</summary>
    public DateTimeOffset? CommittedAt { get; init; }

    /// <summary>When it was aborted.</summary>
    public DateTimeOffset? AbortedAt { get; init; }

    /// <summary>Aborted: why.</summary>
    public string? Error { get; init; }

    /// <summary>Whether every job has reached a final state (or was removed after its retention).</summary>
    public bool Finished { get; init; }

    /// <summary>Its jobs per state; <c>Removed</c> counts jobs already removed after their retention (or, while staging,
    /// not written yet).</summary>
    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();

    /// <summary>Its jobs in the order they were submitted.</summary>
    public IReadOnlyList<WorkflowNodeView> Jobs { get; init; } = [];

    /// <summary>The W3C trace id of its submission's trace, when traced (every job of it joins that trace).</summary>
    public string? TraceId { get; init; }

    /// <summary>Store revision this view was read at (or written at, for a submission).</summary>
    public long Revision { get; init; }
}

/// <summary>One job of a workflow, as <see cref="WorkflowView"/> shows it.</summary>
public sealed record WorkflowNodeView
{
    /// <summary>Its ref in the workflow; null when the job was removed after its retention (its ref went with it).</summary>
    public string? Ref { get; init; }

    /// <summary>Its job id (<c>GET /v1/jobs/{id}</c>).</summary>
    public string Job { get; init; } = "";

    /// <summary>Its state; null when the job no longer exists (removed after its retention) or was not written.</summary>
    public JobState? State { get; init; }

    /// <summary>What it waits for: each entry names a node of the workflow by <c>ref</c> when it is one (and its job
    /// id always).</summary>
    public IReadOnlyList<JobDependency> DependsOn { get; init; } = [];

    /// <summary>Why it failed, was cancelled or skipped.</summary>
    public string? Error { get; init; }

    /// <summary>When it reached its final state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}
