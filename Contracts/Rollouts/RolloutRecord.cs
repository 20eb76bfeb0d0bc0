namespace ControlPlane.Contracts.Rollouts;

/// <summary>Where a progressive feature rollout stands (docs/cells.md, "Progressive feature rollout").</summary>
public enum RolloutState
{
    /// <summary>The feature is on for <see cref="RolloutRecord.Share"/> % of the cell's agents; the cell's leader judges
    /// the step and advances, completes or halts it.</summary>
    Running,

    /// <summary>Stopped by the leader (the agents with the feature failed more jobs than the margin allows) or by an
    /// operator: the feature is off on every agent.</summary>
    Halted,

    /// <summary>The last step (100 %) was reached: the feature is on for every agent of the cell.</summary>
    Completed,
}

/// <summary>
/// The record at <c>rollouts/&lt;feature&gt;</c> in a cell's subtree (the root's for the default cell): a protocol feature
/// switched on for a growing share of the cell's agents. Created by a director's API (<c>POST /v1/cells/{cell}/rollouts</c>),
/// advanced, completed or halted by the cell's leader (fenced by its candidate key) and halted by an operator, every write
/// conditioned on the version read. Agents only read it: an agent has the feature while the rollout is
/// <see cref="RolloutState.Running"/> or <see cref="RolloutState.Completed"/> and <see cref="RolloutShares.Has(RolloutRecord, string)"/> says its id
/// falls within <see cref="Share"/>.
/// </summary>
public sealed record RolloutRecord
{
    /// <summary>Fields this build does not know, kept across rewrites.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Unknown { get; init; }

    /// <summary>Schema version of this record (<see cref="Protocol.SchemaVersion"/>).</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The feature (<see cref="RolloutShares.FeatureProblem"/>): also the record's key.</summary>
    public string Feature { get; init; } = "";

    /// <summary>The shares of the cell's agents, in percent, strictly increasing and ending at 100.</summary>
    public IReadOnlyList<int> Steps { get; init; } = [];

    /// <summary>Index into <see cref="Steps"/> of the current step.</summary>
    public int Step { get; init; }

    /// <summary>Where the rollout stands.</summary>
    public RolloutState State { get; init; } = RolloutState.Running;

    /// <summary>How much higher (0 to 1) the failure rate of jobs on agents with the feature may be than on the others
    /// before the rollout halts.</summary>
    public double Margin { get; init; }

    /// <summary>Finished jobs each group (with and without the feature) needs within a step before the step is judged.</summary>
    public int MinJobs { get; init; }

    /// <summary>Least time a step lasts before the next one starts (a halt needs no wait).</summary>
    public double StepSeconds { get; init; }

    /// <summary>When the rollout was started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Who started it (the API caller's identity).</summary>
    public string? StartedBy { get; init; }

    /// <summary>When the current step started (on the clock of the director that wrote it).</summary>
    public DateTimeOffset StepStartedAt { get; init; }

    /// <summary>When the rollout halted or completed; null while it runs.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Why it halted (or completed); null while it runs.</summary>
    public string? Reason { get; init; }

    /// <summary>Every judged step, oldest first: its share, when it ran, what was measured and what followed.</summary>
    public IReadOnlyList<RolloutStepResult> History { get; init; } = [];

    /// <summary>The percentage of the cell's agents that have the feature now: the current step's while running or
    /// completed, 0 once halted. Computed, never stored (a stored copy would come back as an unknown field and be written
    /// twice); <see cref="RolloutView.Share"/> carries it in the API.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Share => State == RolloutState.Halted || Steps.Count == 0 ? 0 : Steps[Math.Clamp(Step, 0, Steps.Count - 1)];
}

/// <summary>One judged step of a rollout.</summary>
/// <param name="Share">The step's share, in percent.</param>
/// <param name="StartedAt">When the step started.</param>
/// <param name="EndedAt">When it was judged.</param>
/// <param name="With">Jobs finished on agents with the feature during the step (as counted by the leader that judged it).</param>
/// <param name="Without">Jobs finished on the other agents.</param>
/// <param name="Outcome">What followed: <c>advanced</c>, <c>completed</c>, <c>halted</c> (with why) or <c>halted by an operator</c>.</param>
public sealed record RolloutStepResult(int Share, DateTimeOffset StartedAt, DateTimeOffset EndedAt, RolloutCounts With, RolloutCounts Without, string Outcome);

/// <summary>Jobs finished by one group of agents: those that succeeded and those that failed (a failure of the job's own:
/// an attempt reported Failed). Cancelled and lost attempts are not counted.</summary>
/// <param name="Succeeded">Attempts that succeeded.</param>
/// <param name="Failed">Attempts that failed.</param>
public sealed record RolloutCounts(int Succeeded, int Failed)
{
    /// <summary>No job yet.</summary>
    public static RolloutCounts None { get; } = new(0, 0);

    /// <summary>Succeeded plus failed.</summary>
    public int Finished => Succeeded + Failed;

    /// <summary>Failed over finished; 0 with none finished.</summary>
    public double FailureRate => Finished == 0 ? 0 : (double)Failed / Finished;
}
