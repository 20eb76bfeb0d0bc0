namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// The record at <c>status/queue</c>: how many jobs are Pending, as the leader counted them in a pass. Written by the
/// leader only (fenced), at most once per <c>Scheduler:QueueStatusInterval</c> and only when a count changed; read by
/// every director to refuse submissions beyond <c>Scheduler:MaxPending</c> (docs/operations.md, "Admission control").
/// </summary>
/// <remarks>
/// The record is kept small whatever the number of groups: <see cref="Groups"/> lists only groups near their limit,
/// at most <see cref="MaxGroups"/> of them in at most <see cref="MaxGroupBytes"/>, largest first. A reader trusts the record only while its
/// <see cref="Epoch"/> is the current leader's: a record left by an earlier leader says nothing about the queue now.
/// </remarks>
public sealed record QueueStatusRecord
{
    /// <summary>Most groups listed in <see cref="Groups"/>.</summary>
    public const int MaxGroups = 1000;

    /// <summary>Most bytes the entries of <see cref="Groups"/> take as JSON: group names are up to
    /// <see cref="Limits.MaxGroupLength"/> characters, and a non-ASCII one is escaped to six bytes a character, so
    /// <see cref="MaxGroups"/> alone would allow about 780 KB.</summary>
    public const int MaxGroupBytes = 64 * 1024;

    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The epoch of the leader that counted (the creation revision of its election key).</summary>
    public long Epoch { get; init; }

    /// <summary>When the leader published the counts (its clock; for people, never compared with another clock).</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Pending jobs in the leader's pass, all groups and jobs without a group included.</summary>
    public int Pending { get; init; }

    /// <summary>Pending jobs per FIFO group, only for groups whose count is at least half of
    /// <c>Scheduler:MaxPendingPerGroup</c> (a group not listed is below that, or smaller than every listed one),
    /// largest first, at most <see cref="MaxGroups"/> and <see cref="MaxGroupBytes"/>.</summary>
    public IReadOnlyDictionary<string, int> Groups { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>Most classes listed in <see cref="Unplaced"/>.</summary>
    public const int MaxUnplaced = 32;

    /// <summary>Most FIFO groups listed in <see cref="GroupHeads"/>.</summary>
    public const int MaxGroupHeads = 200;

    /// <summary>Most bytes <see cref="Unplaced"/> and <see cref="GroupHeads"/> take as JSON, each: a class can carry
    /// 64 constraints of 4 KiB, so the counts alone would not keep the record small.</summary>
    public const int MaxExplainBytes = 32 * 1024;

    /// <summary>Classes of queued jobs no worker could take in the leader's last pass, most jobs first, at most
    /// <see cref="MaxUnplaced"/> within <see cref="MaxExplainBytes"/>; omitted when every queued job found a worker.
    /// Added without a layout version change: older directors ignore it.</summary>
    public IReadOnlyList<UnplacedClass>? Unplaced { get; init; }

    /// <summary>Classes set aside in the last pass but left out of <see cref="Unplaced"/> by its bounds.</summary>
    public int UnplacedOmitted { get; init; }

    /// <summary>FIFO groups with a job waiting behind another, by name: most pending first, at most
    /// <see cref="MaxGroupHeads"/> within <see cref="MaxExplainBytes"/>; omitted when there are none.</summary>
    public IReadOnlyDictionary<string, GroupHead>? GroupHeads { get; init; }

    /// <summary>Groups with a waiting job left out of <see cref="GroupHeads"/> by its bounds.</summary>
    public int GroupHeadsOmitted { get; init; }

    /// <summary>Most concurrency keys listed in <see cref="ConcurrencyKeys"/>.</summary>
    public const int MaxConcurrencyKeys = 200;

    /// <summary>Concurrency keys whose queued jobs the leader's last pass held back because the key was full, by key:
    /// most waiting jobs first, at most <see cref="MaxConcurrencyKeys"/> within <see cref="MaxExplainBytes"/>; omitted
    /// when there are none. Added without a layout version change: older directors ignore it.</summary>
    public IReadOnlyDictionary<string, ConcurrencyKeyStatus>? ConcurrencyKeys { get; init; }

    /// <summary>Full keys left out of <see cref="ConcurrencyKeys"/> by its bounds.</summary>
    public int ConcurrencyKeysOmitted { get; init; }

    /// <summary>Jobs per state (state name → count) in the leader's pass, terminal states included until retention
    /// removes their jobs; read by <c>GET /v1/jobs/counts</c> (the dashboard's overview). Added without a layout
    /// version change: null from a leader that does not publish it, ignored by older directors.</summary>
    public IReadOnlyDictionary<string, int>? Jobs { get; init; }
}
