namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// <c>GET /v1/jobs/{id}/explain</c>: why a job is (not) running, in plain words with counts. Served by any director
/// from the job's records and the leader's published queue status (<see cref="QueueStatusRecord"/>), so it needs
/// neither the leader nor a scan.
/// </summary>
public sealed record JobExplanation
{
    /// <summary>Job id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The job's state as <c>GET /v1/jobs/{id}</c> shows it (Running once its agent confirmed the start).</summary>
    public JobState State { get; init; }

    /// <summary>Current attempt, from 1.</summary>
    public int Attempt { get; init; }

    /// <summary>The first reason's message: one line for people.</summary>
    public string Summary { get; init; } = "";

    /// <summary>Every reason that applies, the one that decides first (<see cref="ExplainReason.Code"/> for scripts).</summary>
    public IReadOnlyList<ExplainReason> Reasons { get; init; } = [];

    /// <summary>Worker of the current attempt, while Assigned or Running.</summary>
    public string? WorkerId { get; init; }

    /// <summary>Since when the job is in its state, when known: its start, its assignment, or its submission.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>When the leader published the queue status the reasons of a Pending job come from (its clock); null
    /// when none was used or none is available.</summary>
    public DateTimeOffset? JudgedAt { get; init; }

    /// <summary>Store revision the job was read at.</summary>
    public long Revision { get; init; }
}

/// <summary>One reason in a <see cref="JobExplanation"/>.</summary>
/// <param name="Code">Stable code for scripts (<see cref="ExplainCodes"/>).</param>
/// <param name="Message">The reason in plain words, with counts.</param>
public sealed record ExplainReason(string Code, string Message);

/// <summary>The codes of <see cref="ExplainReason.Code"/>. Part of the API: a code is never reused for another meaning.</summary>
public static class ExplainCodes
{
    /// <summary>The job runs on a worker.</summary>
    public const string Running = "running";

    /// <summary>Waiting: a dependency has not ended yet (one reason per such dependency, the first few named).</summary>
    public const string Dependency = "dependency";

    /// <summary>Waiting: a dependency ended in a state its condition rules out; the leader skips the job.</summary>
    public const string DependencyRulesOut = "dependencyRulesOut";

    /// <summary>Waiting: its <c>runAt</c> or <c>delaySeconds</c> has not passed on the leader's clock.</summary>
    public const string RunAt = "runAt";

    /// <summary>Waiting: its workflow is still being submitted (no job of it starts before the commit), or was aborted
    /// or cancelled (the leader skips or cancels the job).</summary>
    public const string Workflow = "workflow";

    /// <summary>Waiting, with nothing left to wait for: the leader releases it in its next pass.</summary>
    public const string Releasing = "releasing";

    /// <summary>The job is assigned; its agent has not confirmed the start yet.</summary>
    public const string Assigned = "assigned";

    /// <summary>The job has finished.</summary>
    public const string Finished = "finished";

    /// <summary>A cancellation was requested and is on its way.</summary>
    public const string CancelRequested = "cancelRequested";

    /// <summary>The job waits for its retry backoff to end.</summary>
    public const string Backoff = "backoff";

    /// <summary>The job waits behind another job of its FIFO group.</summary>
    public const string FifoGroup = "fifoGroup";

    /// <summary>The job's concurrency key is full: as many jobs with the key as its limit are out on workers.</summary>
    public const string ConcurrencyLimit = "concurrencyLimit";

    /// <summary>No worker is registered.</summary>
    public const string NoWorkers = "noWorkers";

    /// <summary>No worker has the job's executor.</summary>
    public const string NoExecutor = "noExecutor";

    /// <summary>No worker with the executor has every feature the job uses.</summary>
    public const string NoFeature = "noFeature";

    /// <summary>No worker with the executor and features carries the job's labels.</summary>
    public const string NoLabel = "noLabel";

    /// <summary>Every capable worker takes no new work (suspect, draining, or another protocol version).</summary>
    public const string NotReady = "notReady";

    /// <summary>Every capable, ready worker is full.</summary>
    public const string Full = "full";

    /// <summary>A worker fits: the job waits for its turn in the queue.</summary>
    public const string Queued = "queued";

    /// <summary>No leader publishes its queue: nothing is placed until one does.</summary>
    public const string NoLeader = "noLeader";

    /// <summary>The job's class was set aside but not listed in the bounded queue status.</summary>
    public const string NotListed = "notListed";

    /// <summary>Admission control refuses new jobs (for the job's group, or all): it holds back new work, not this job.</summary>
    public const string Admission = "admission";

    /// <summary>The worker of the job's attempt is suspect.</summary>
    public const string WorkerSuspect = "workerSuspect";

    /// <summary>The worker of the job's attempt is draining.</summary>
    public const string WorkerDraining = "workerDraining";

    /// <summary>The worker of the job's attempt is gone (its registration ended).</summary>
    public const string WorkerGone = "workerGone";

    /// <summary>The job is recorded as out on a worker but its assignment is missing.</summary>
    public const string AssignmentMissing = "assignmentMissing";
}
