using System.Text.Json;

namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// What a client submits (<c>POST /v1/jobs</c>) and what the job record keeps. Validate with
/// <see cref="JobSpecValidator"/> before storing; the defaults below are applied by
/// <see cref="JobSpecValidator.Normalize"/>.
/// </summary>
public sealed record JobSpec
{
    /// <summary>Free-form label for people; not unique.</summary>
    public string? Name { get; init; }

    /// <summary><c>shell</c> (runs <see cref="Command"/>) or the name of an in-process handler an agent registered.</summary>
    public string Executor { get; init; } = "";

    /// <summary>argv of a shell job: the executable and its arguments, never passed through a shell.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Payload handed to an in-process handler.</summary>
    public JsonElement? Args { get; init; }

    /// <summary>Environment variables added to a shell job's process (needs the agent feature <c>env</c>).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Working directory of a shell job (needs the agent feature <c>workingDirectory</c>).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Labels a worker must carry with exactly these values.</summary>
    public IReadOnlyDictionary<string, string>? Constraints { get; init; }

    /// <summary>Slots the job takes on its worker. <value>1.</value></summary>
    public int Slots { get; init; } = 1;

    /// <summary>Higher runs first; equal priorities run in submission order. <value>0.</value></summary>
    public int Priority { get; init; }

    /// <summary>FIFO group: jobs of one group run one at a time, in submission order, across failovers.</summary>
    public string? Group { get; init; }

    /// <summary>Attempts before the job is Failed for good (a lost worker counts as an attempt). <value>3.</value></summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Seconds an attempt may run before it is stopped and counted as failed; null for no limit.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>Not placed before this time, judged on the leader's clock: the job is <see cref="JobState.Waiting"/>
    /// until then. Exclusive with <see cref="DelaySeconds"/>; null to run as soon as possible.</summary>
    public DateTimeOffset? RunAt { get; init; }

    /// <summary>Not placed before this many seconds after the accepting director took it (its clock gives the
    /// instant, the leader's clock judges it). Exclusive with <see cref="RunAt"/>.</summary>
    public int? DelaySeconds { get; init; }

    /// <summary>Jobs that must be final first, each with the outcome it needs (<see cref="JobDependency"/>). They must
    /// exist when this job is submitted, so dependencies never form a cycle. Null or empty for none.</summary>
    public IReadOnlyList<JobDependency>? DependsOn { get; init; }

    /// <summary>At most <see cref="JobConcurrency.Limit"/> jobs with the same <see cref="JobConcurrency.Key"/> are
    /// Assigned or Running at once, across failovers (<see cref="JobConcurrency"/>). Null for no limit.</summary>
    public JobConcurrency? Concurrency { get; init; }

    /// <summary>The cell to run in (<c>[a-z0-9-]{1,32}</c>, docs/cells.md): <c>default</c> or a cell some agent registered.
    /// Null: the accepting director routes the job to a cell whose workers can take it, the least loaded first.</summary>
    public string? Cell { get; init; }
}
