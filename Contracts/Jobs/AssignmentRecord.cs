using System.Text.Json;

namespace ControlPlane.Contracts.Jobs;

/// <summary>What an agent has reported about an attempt, kept in the assignment record.</summary>
public enum AttemptState
{
    /// <summary>Written by the leader; the agent has not started it.</summary>
    Assigned,

    /// <summary>The agent confirmed the start (before starting the process or handler).</summary>
    Running,

    /// <summary>Exited with code 0.</summary>
    Succeeded,

    /// <summary>Exited non-zero, threw, timed out, or could not start.</summary>
    Failed,

    /// <summary>Stopped because cancellation was requested.</summary>
    Cancelled,

    /// <summary>The agent stopped it without a result of its own (self-fencing, restart): retried like a lost worker.</summary>
    Lost,
}

/// <summary>
/// The persistent record at <c>assignments/&lt;workerId&gt;/&lt;jobId&gt;.&lt;attempt&gt;</c>: one attempt of one job
/// on one worker. The leader creates it (fenced on its epoch) and may set <see cref="CancelRequested"/>; the agent
/// owning the worker updates the report fields, always conditioned on the version it last saw, so a report for an
/// assignment the leader deleted (the attempt was given away) fails and is logged, never applied. The name holds
/// the attempt, so a key is never reused: its existence alone fences an attempt, on both stores.
/// Fields the agent did not advertise are left out (see <see cref="Protocol.Features"/>); readers ignore unknown fields.
/// </summary>
public sealed record AssignmentRecord
{
    /// <summary>Fields this build does not know, kept so that rewriting the record (the leader folding a result,
    /// an agent reporting) does not drop what a newer writer added during a rolling upgrade.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Unknown { get; init; }

    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The job.</summary>
    public string JobId { get; init; } = "";

    /// <summary>Attempt number, from 1: the second half of the fencing token.</summary>
    public int Attempt { get; init; }

    /// <summary>Epoch of the leader that assigned it: the first half of the fencing token.</summary>
    public long Epoch { get; init; }

    /// <summary>Store session of the worker registration this was assigned to. An agent runs only assignments made to
    /// its current session; the leader takes back those whose worker has another (or no) session now.</summary>
    public long WorkerSession { get; init; }

    /// <summary>When the leader assigned it (the leader's clock).</summary>
    public DateTimeOffset AssignedAt { get; init; }

    /// <summary>Executor to run.</summary>
    public string Executor { get; init; } = "";

    /// <summary>argv of a shell job.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Handler payload.</summary>
    public JsonElement? Args { get; init; }

    /// <summary>Environment (only to agents with feature <c>env</c>).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Working directory (only to agents with feature <c>workingDirectory</c>).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Timeout (only to agents with feature <c>timeout</c>).</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>Slots the attempt holds on the worker.</summary>
    public int Slots { get; init; } = 1;

    /// <summary>W3C <c>traceparent</c> the attempt's run continues: the leader's placement span, or the job's own
    /// when the leader did not trace. An agent that does not trace ignores it.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Set by the leader when the job's cancellation was requested.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>Agent report: state of the attempt.</summary>
    public AttemptState State { get; init; } = AttemptState.Assigned;

    /// <summary>Agent report: start time (agent clock).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Agent report: last progress heartbeat (agent clock; the leader judges freshness by its own clock).</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>Agent report: free-form progress from the job.</summary>
    public string? Progress { get; init; }

    /// <summary>Agent report: end time.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Agent report: exit code.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Agent report: output tail.</summary>
    public string? Output { get; init; }

    /// <summary>Agent report: error.</summary>
    public string? Error { get; init; }

    /// <summary>True once the agent reported an end (any state after Running). Computed, never stored.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinished => State is AttemptState.Succeeded or AttemptState.Failed or AttemptState.Cancelled or AttemptState.Lost;
}
