namespace ControlPlane.Contracts.Workers;

/// <summary>
/// The ephemeral registration at <c>workers/&lt;workerId&gt;</c>, written by the agent on every new session. Its
/// disappearance (the session ended) is how the leader learns the worker is gone.
/// </summary>
public sealed record WorkerRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>Worker id: stable across restarts when configured.</summary>
    public string Id { get; init; } = "";

    /// <summary>Host name of the agent's machine.</summary>
    public string Host { get; init; } = "";

    /// <summary>Operating-system process id of the agent.</summary>
    public int ProcessId { get; init; }

    /// <summary>Labels jobs' constraints are matched against.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Concurrent slots the worker offers.</summary>
    public int Slots { get; init; } = 1;

    /// <summary>Agent build version.</summary>
    public string Version { get; init; } = "";

    /// <summary>Protocol version the agent speaks (<see cref="Protocol.Version"/>).</summary>
    public int ProtocolVersion { get; init; } = Protocol.Version;

    /// <summary>Executors the agent can run: <c>shell</c> when enabled, and its handler names.</summary>
    public IReadOnlyList<string> Executors { get; init; } = [];

    /// <summary>Protocol features the agent implements (<see cref="Protocol.Features"/>).</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Interval of the agent's heartbeats, in seconds (per assignment with feature <c>heartbeat</c>, of this
    /// record with <c>workerHeartbeat</c>); 0 when it sends none.</summary>
    public double HeartbeatSeconds { get; init; }

    /// <summary>When this incarnation registered (agent clock).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The agent is draining: it takes no new work.</summary>
    public bool Draining { get; init; }

    /// <summary>Feature <c>workerHeartbeat</c>: when the agent wrote this beat, on the agent's clock. Informational
    /// only (for people and listings): a leader judges liveness by when it saw the record change, on its own clock.
    /// Null (omitted) before the first beat and for agents without the feature.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>Feature <c>workerHeartbeat</c>: slots held by the attempts the agent is starting or running (at most
    /// <see cref="Slots"/>). Kept fresh within about a second of a start or finish, and at every beat. Null (omitted)
    /// for agents without the feature: <c>GET /v1/workers</c> then shows no used slots for them.</summary>
    public int? SlotsUsed { get; init; }

    /// <summary>Feature <c>workerHeartbeat</c>: the attempts alive on their executor path at this beat, each named
    /// <c>&lt;jobId&gt;.&lt;attempt&gt;</c> like the last segment of its assignment key
    /// (<see cref="StoreLayout.Assignment"/>), in ordinal order. An attempt whose executor path has stopped making
    /// progress (a wedged run or report) is left out, so its worker can be found suspect although its session lives.
    /// Null (omitted) for agents without the feature; empty when nothing runs.</summary>
    public IReadOnlyList<string>? Running { get; init; }

    /// <summary>Feature <c>beatFence</c>: the agent's beat lease L, in seconds. The agent kills every attempt and starts
    /// nothing while no registration update it sent within the last L (its clock) has been acknowledged by the store.
    /// Null (omitted) for agents without the feature.</summary>
    public double? BeatFenceSeconds { get; init; }

    /// <summary>The worker's cell (docs/cells.md) when it is a named one; null (omitted) in the default cell, whose
    /// records are as before cells. Informational: the record's place in the tree is what puts it in its cell.</summary>
    public string? Cell { get; init; }
}

/// <summary>Drain request at <c>drains/&lt;workerId&gt;</c>, written by any director; the agent deletes it once drained.</summary>
public sealed record DrainRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>When the drain was requested.</summary>
    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>Director that accepted the request.</summary>
    public string? RequestedBy { get; init; }
}

/// <summary>Marker at <c>suspects/&lt;workerId&gt;</c>, written by the leader when a worker's running jobs stop
/// reporting (gray failure) and removed when they report again or the worker leaves.</summary>
public sealed record SuspectRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>When the leader marked the worker.</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>Why.</summary>
    public string Reason { get; init; } = "";

    /// <summary>Which rule marked it (<see cref="SuspectKinds"/>); empty when written by a leader that predates kinds.
    /// It decides how the mark is cleared: <c>unstarted</c> only once the worker starts an attempt again.</summary>
    public string Kind { get; init; } = "";

    /// <summary>The leader's suspicion level when it marked the worker: the phi of its registration beats (docs/operations.md,
    /// "Failure detection"): 1 means about a 10 % chance that a healthy worker's next beat is still to come, 8 about one in
    /// 10⁸. Null when no beats were measured (an agent without feature <c>workerHeartbeat</c>).</summary>
    public double? Level { get; init; }
}

/// <summary>Values of <see cref="SuspectRecord.Kind"/>.</summary>
public static class SuspectKinds
{
    /// <summary>Running attempts stopped reporting (beats leave them out, or their heartbeats stopped).</summary>
    public const string Silent = "silent";

    /// <summary>The worker's registration beats are overdue: their phi passed <c>Scheduler:SuspectPhi</c>.</summary>
    public const string Beats = "beats";

    /// <summary>The worker accepts assignments (it stays registered and beats) but starts none of them.</summary>
    public const string Unstarted = "unstarted";
}

/// <summary>How the scheduler treats a worker.</summary>
public enum WorkerState
{
    /// <summary>Takes new work.</summary>
    Ready,

    /// <summary>Finishing its work; takes nothing new.</summary>
    Draining,

    /// <summary>Running jobs stopped reporting, its beats are overdue, or it starts nothing it is given; takes nothing
    /// new (but a probe).</summary>
    Suspect,

    /// <summary>Speaks a protocol version this director does not serve; takes nothing (shown as <c>unsupportedProtocol</c>).</summary>
    UnsupportedProtocol,
}

/// <summary>A worker as <c>GET /v1/workers</c> returns it.</summary>
public sealed record WorkerView
{
    /// <summary>Worker id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The worker's cell (docs/cells.md); always present, <c>default</c> included.</summary>
    public string Cell { get; init; } = Cells.Default;

    /// <summary>Host name.</summary>
    public string Host { get; init; } = "";

    /// <summary>Labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Slots offered.</summary>
    public int Slots { get; init; }

    /// <summary>Slots held by the attempts the agent is starting or running, as its registration last said
    /// (<see cref="WorkerRecord.SlotsUsed"/>); null for an agent without feature <c>workerHeartbeat</c>, whose use is
    /// not in its record (counting its assignments would cost one store read per worker).</summary>
    public int? SlotsUsed { get; init; }

    /// <summary>When the agent last beat (its own clock, <see cref="WorkerRecord.HeartbeatAt"/>); null for an agent
    /// without feature <c>workerHeartbeat</c> or before its first beat.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>Agent version.</summary>
    public string Version { get; init; } = "";

    /// <summary>Protocol version.</summary>
    public int ProtocolVersion { get; init; }

    /// <summary>Executors and features.</summary>
    public WorkerCapabilities Capabilities { get; init; } = new([], []);

    /// <summary><c>ready</c>, <c>draining</c>, <c>suspect</c> or <c>unsupportedProtocol</c> (a protocol version outside
    /// what this director serves: the scheduler gives it nothing).</summary>
    public string State { get; init; } = "ready";

    /// <summary>Why the leader suspects it (<see cref="SuspectRecord.Reason"/>); null unless it has a suspect record.</summary>
    public string? SuspectReason { get; init; }

    /// <summary>Which rule marked it (<see cref="SuspectKinds"/>); null unless it has a suspect record.</summary>
    public string? SuspectKind { get; init; }

    /// <summary>The suspicion level (phi) when it was marked (<see cref="SuspectRecord.Level"/>); null when not measured.</summary>
    public double? SuspectLevel { get; init; }

    /// <summary>When the leader marked it (the leader's clock); null unless it has a suspect record.</summary>
    public DateTimeOffset? SuspectSince { get; init; }

    /// <summary>When this incarnation registered.</summary>
    public DateTimeOffset StartedAt { get; init; }
}

/// <summary>One page of <c>GET /v1/workers</c>.</summary>
/// <param name="Items">Workers of this page, in id order (ordinal).</param>
/// <param name="Cursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
/// <param name="Revision">Store revision the page was read at (the oldest of its reads).</param>
public sealed record WorkerPage(IReadOnlyList<WorkerView> Items, string? Cursor, long Revision);

/// <summary>What a worker advertised.</summary>
/// <param name="Executors">Executor names.</param>
/// <param name="Features">Protocol features.</param>
public sealed record WorkerCapabilities(IReadOnlyList<string> Executors, IReadOnlyList<string> Features);
