namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// One class of queued jobs (equal executor, features, constraints and slots) that no worker could take in the
/// leader's last pass, with the leader's count of why: a funnel over the live workers, each step counting the workers
/// that drop out at it. Published in <see cref="QueueStatusRecord.Unplaced"/>, so any director can explain a job of
/// the class without asking the leader (<c>GET /v1/jobs/{id}/explain</c>).
/// </summary>
/// <remarks>
/// The steps are judged in order: executor, then features (among workers with the executor), then labels (among
/// those with the executor and every feature), then readiness, then room. A worker is counted at the first step it
/// fails, so <see cref="Workers"/> = <see cref="WithoutExecutor"/> + <see cref="WithoutFeatures"/> +
/// <see cref="WithoutLabels"/> + <see cref="Draining"/> + <see cref="Suspect"/> + <see cref="OtherProtocol"/> +
/// <see cref="Full"/> (+ workers that had room after the pass, which the next pass uses).
/// </remarks>
public sealed record UnplacedClass
{
    /// <summary>The executor the class runs on.</summary>
    public string Executor { get; init; } = "";

    /// <summary>Protocol features its jobs use (sorted).</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Labels its jobs require.</summary>
    public IReadOnlyDictionary<string, string> Constraints { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Slots each of its jobs takes.</summary>
    public int Slots { get; init; } = 1;

    /// <summary>Jobs of the class whose turn had come (queued: past their backoff, at the head of their group).</summary>
    public int Jobs { get; init; }

    /// <summary>Live workers the leader judged.</summary>
    public int Workers { get; init; }

    /// <summary>Workers without the executor.</summary>
    public int WithoutExecutor { get; init; }

    /// <summary>Workers with the executor that lack at least one feature.</summary>
    public int WithoutFeatures { get; init; }

    /// <summary>Per feature: how many workers with the executor lack it. Omitted when none does.</summary>
    public IReadOnlyDictionary<string, int>? MissingFeatures { get; init; }

    /// <summary>Workers with the executor and every feature whose labels do not match.</summary>
    public int WithoutLabels { get; init; }

    /// <summary>Per required label (<c>name=value</c>): how many workers with the executor and features lack it.
    /// Omitted when none does.</summary>
    public IReadOnlyDictionary<string, int>? MissingLabels { get; init; }

    /// <summary>Capable workers that are draining.</summary>
    public int Draining { get; init; }

    /// <summary>Capable workers marked suspect (their running jobs stopped reporting).</summary>
    public int Suspect { get; init; }

    /// <summary>Capable workers speaking a protocol version this leader does not serve.</summary>
    public int OtherProtocol { get; init; }

    /// <summary>Capable, ready workers without room for <see cref="Slots"/>.</summary>
    public int Full { get; init; }

    /// <summary>The most free slots among the <see cref="Full"/> workers (less than <see cref="Slots"/>).</summary>
    public int MostFree { get; init; }
}

/// <summary>
/// A FIFO group whose pending jobs wait behind another job of the group, as the leader saw it in its last pass;
/// published in <see cref="QueueStatusRecord.GroupHeads"/>.
/// </summary>
public sealed record GroupHead
{
    /// <summary>The group's oldest unfinished job: every other job of the group waits for it.</summary>
    public string Job { get; init; } = "";

    /// <summary>True when that job is out on a worker (Assigned or Running); false when it is Pending itself.</summary>
    public bool Out { get; init; }

    /// <summary>Pending jobs in the group.</summary>
    public int Pending { get; init; }
}

/// <summary>
/// A concurrency key whose queued jobs the leader's last pass held back because the key was full; published in
/// <see cref="QueueStatusRecord.ConcurrencyKeys"/>.
/// </summary>
public sealed record ConcurrencyKeyStatus
{
    /// <summary>Jobs with the key out on workers (Assigned or Running) as the leader counted them.</summary>
    public int Out { get; init; }

    /// <summary>The smallest limit among the held jobs (a job is judged by its own limit).</summary>
    public int Limit { get; init; }

    /// <summary>Queued jobs of the key held back in that pass.</summary>
    public int Waiting { get; init; }
}
