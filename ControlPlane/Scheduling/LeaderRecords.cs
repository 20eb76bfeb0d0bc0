using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Director.Scheduling;

/// <summary>A live worker as the leader sees it.</summary>
/// <param name="Id">Worker id.</param>
/// <param name="Record">Its registration.</param>
/// <param name="Session">The session its registration hangs on: the worker's incarnation.</param>
/// <param name="DrainRequested">A drain record exists for it.</param>
/// <param name="Suspect">A suspect record exists for it.</param>
internal sealed record WorkerInfo(string Id, WorkerRecord Record, long Session, bool DrainRequested, bool Suspect)
{
    /// <summary>Takes new work: not draining, not suspect (or suspect with its probe open), and speaks a protocol this
    /// director serves.</summary>
    public bool Ready => !Record.Draining && !DrainRequested && (!Suspect || Probe)
        && Record.ProtocolVersion is >= Contracts.Protocol.MinProtocolVersion and <= Contracts.Protocol.Version;

    /// <summary>A suspect worker whose probe is open: it may take one assignment (docs/operations.md, "Failure
    /// detection"). Changed only through <see cref="LeaderState.SetProbe"/>, which keeps the index in step.</summary>
    public bool Probe { get; set; }

    /// <summary>The registration's version (changes since creation): a take-back after the beat fence is conditioned on
    /// it, so a beat that landed since refuses it.</summary>
    public long Version { get; init; }

    /// <summary>The registration's creation revision (with <see cref="Version"/>, names exactly one registration write).</summary>
    public long CreateRevision { get; init; }

    /// <summary>Slots held by its unfinished attempts, as the leader last judged them.</summary>
    public int Used { get; set; }

    /// <summary>Slots promised by placements of the pass in progress (not yet committed).</summary>
    public int Reserved { get; set; }

    /// <summary>Slots it could take now.</summary>
    public int Free => Record.Slots - Used - Reserved;

    /// <summary>Its executors and features as one canonical key: workers with equal keys suit the same jobs but
    /// for labels and room.</summary>
    public string ShapeKey => field ??= string.Join('\u0002', Record.Executors.Order(StringComparer.Ordinal)) + "\u0001"
        + string.Join('\u0002', Record.Features.Order(StringComparer.Ordinal));
}

/// <summary>A job record with the store metadata the scheduler needs.</summary>
/// <param name="Key">Store key.</param>
/// <param name="Record">The parsed record.</param>
/// <param name="Version">Version for conditional writes.</param>
/// <param name="CreateRevision">Submission order.</param>
/// <param name="Bytes">Serialized size.</param>
internal sealed record JobInfo(string Key, JobRecord Record, long Version, long CreateRevision, int Bytes)
{
    /// <summary>What it needs from a worker (computed once per record).</summary>
    public Requirement Requirement => field ??= Requirement.Of(Record.Spec);

    /// <summary>Its class in the queue: its requirement, and its concurrency key and limit when it has one (jobs of a
    /// full key are set aside together, one check per class).</summary>
    public string ClassKey => field ??= Record.Spec.Concurrency is { } c
        ? $"{Requirement.Key}\u0003{c.Limit}\u0003{c.Key}"
        : Requirement.Key;
}

/// <summary>A concurrency key's record as the leader's view holds it (<see cref="ConcurrencyRecord"/>).</summary>
/// <param name="Key">Store key (<c>concurrency/&lt;bucket&gt;/&lt;hash&gt;</c>).</param>
/// <param name="Version">Version for conditional writes: every keyed placement is conditioned on it.</param>
/// <param name="CreateRevision">Its incarnation (a removed and re-created record is another one).</param>
/// <param name="ModRevision">The revision of the change this reflects.</param>
/// <param name="Job">The job its last placement named, or null when the record cannot be read.</param>
/// <param name="Attempt">That job's attempt.</param>
internal sealed record KeyRecordInfo(string Key, long Version, long CreateRevision, long ModRevision, string? Job, int Attempt)
{
    /// <summary>Every job of the record's placement with its attempt (its <c>placements</c>, or its one job for a record of an older leader).</summary>
    public IReadOnlyList<(string Job, int Attempt)> Placed { get; init; } = Job is null ? [] : [(Job, Attempt)];
}

/// <summary>An assignment with what the leader observed about it on its own clock.</summary>
/// <param name="Key">Store key.</param>
/// <param name="WorkerId">Worker (from the key).</param>
/// <param name="JobId">Job (from the key).</param>
/// <param name="Attempt">Attempt (from the key).</param>
/// <param name="Record">The parsed record, or null when it cannot be read.</param>
/// <param name="Version">Version for conditional writes.</param>
/// <param name="ModRevision">The revision of the change this reflects.</param>
/// <param name="FirstSeen">When this leader first saw it.</param>
/// <param name="LastChanged">When this leader last saw it change (a report or heartbeat).</param>
/// <param name="RunningSince">When this leader first saw it Running.</param>
internal sealed record AssignmentInfo(
    string Key, string WorkerId, string JobId, int Attempt, AssignmentRecord? Record, long Version, long ModRevision,
    DateTimeOffset FirstSeen, DateTimeOffset LastChanged, DateTimeOffset? RunningSince)
{
    /// <summary>When this leader last saw it report: a change of the assignment, or (feature <c>workerHeartbeat</c>)
    /// a change of its worker's registration that lists it.</summary>
    public DateTimeOffset LastChanged { get; set; } = LastChanged;

    /// <summary>Slots this attempt holds on its worker, as the last pass that judged it decided (0 once it is
    /// finished, taken back or withdrawn).</summary>
    public int Holds { get; set; }
}
