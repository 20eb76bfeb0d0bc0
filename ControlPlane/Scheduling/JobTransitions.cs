using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>Whose fault it is that an attempt ended without success: it decides what the attempt costs the job.</summary>
internal enum Fault
{
    /// <summary>The job's own doing (it exited non-zero, or ran past its timeout): it uses up one of the job's
    /// <c>maxAttempts</c> and the next attempt waits the retry backoff.</summary>
    Job,

    /// <summary>Nothing the job did (its worker left, restarted, was fenced or drained, never started it, or its
    /// assignment vanished): the job is placed again at once and the loss is counted in
    /// <see cref="JobRecord.Interruptions"/>, not against <c>maxAttempts</c>, up to
    /// <see cref="SchedulerOptions.MaxInterruptions"/>.</summary>
    Infrastructure,
}

/// <summary>
/// The one owner of every change of a job record's state: submitted, assigned, finished, retried, lost, cancelled.
/// The leader's planner and the API's cancellation both take their records from here, so a transition and its
/// wording exist once. Each method is a pure function of the record and the leader's (or API's) clock.
/// </summary>
internal static class JobTransitions
{
    /// <summary>The error recorded on a job cancelled while Pending.</summary>
    public const string CancelledBeforeItRan = "cancelled before it ran";

    /// <summary>
    /// A new job as the accepting director writes it; <paramref name="traceParent"/> is the submission's trace
    /// context, when traced. A job with <c>runAt</c>, <c>delaySeconds</c> or <c>dependsOn</c> starts Waiting, with
    /// <c>notBefore</c> the instant it may start (<paramref name="now"/> plus the delay): the leader releases it, on its
    /// own clock, even when that instant has already passed here, so no director's clock can start it early.
    /// </summary>
    public static JobRecord Submitted(string id, JobSpec spec, DateTimeOffset now, string? idempotencyKey, string? traceParent = null)
    {
        var notBefore = spec.RunAt ?? (spec.DelaySeconds is { } delay ? now + TimeSpan.FromSeconds(delay) : null);
        var waits = notBefore is not null || spec.DependsOn is { Count: > 0 };
        return new()
        {
            TraceParent = traceParent,
            Id = id,
            Spec = spec,
            State = waits ? JobState.Waiting : JobState.Pending,
            NotBefore = notBefore,
            Attempt = 1,
            CreatedAt = now,
            IdempotencyKey = idempotencyKey,
        };
    }

    /// <summary>
    /// A job of workflow <paramref name="workflowId"/> as its accepting director writes it: always Waiting, whatever its
    /// dependencies and time, because no job of a workflow may start before the workflow is committed (the leader
    /// checks that before it judges the rest, <see cref="Planner"/>).
    /// </summary>
    public static JobRecord SubmittedInWorkflow(string id, JobSpec spec, DateTimeOffset now, string workflowId, string nodeRef, string? traceParent) =>
        Submitted(id, spec, now, null, traceParent) with { State = JobState.Waiting, WorkflowId = workflowId, WorkflowRef = nodeRef };

    /// <summary>Waiting → Pending: its dependencies ended as it needs and its time has come (the leader's clock).</summary>
    public static JobRecord Released(JobRecord job) => job with { State = JobState.Pending, NotBefore = null };

    /// <summary>Waiting → Skipped: <paramref name="why"/> names the dependency and the state it ended in.</summary>
    public static JobRecord Skipped(JobRecord job, string why, DateTimeOffset now) =>
        Finished(job, JobState.Skipped, now, why, null, null);

    /// <summary>What a Waiting job waits for, in words, from its record alone.</summary>
    public static string WaitingFor(JobRecord job)
    {
        var parts = new List<string>(2);
        if (job.Spec.DependsOn is { Count: > 0 } dependencies)
        {
            parts.Add(dependencies.Count == 1
                ? $"job {dependencies[0].Job} to end ({Needs(dependencies[0].On)})"
                : $"{dependencies.Count} jobs to end (dependsOn)");
        }

        if (job.NotBefore is { } notBefore)
        {
            parts.Add($"{notBefore:O} (the leader's clock)");
        }

        if (parts.Count == 0)
        {
            return job.WorkflowId is { } workflow ? $"workflow {workflow} to be committed and the leader to release it" : "the leader to release it";
        }

        return string.Join(" and ", parts);
    }

    /// <summary>The outcome a condition needs, in words.</summary>
    public static string Needs(DependencyCondition condition) => condition switch
    {
        DependencyCondition.Success => "needs success",
        DependencyCondition.Failure => "needs failure",
        _ => "any outcome",
    };

    /// <summary>A new job that a schedule's tick creates (the leader writes it; <paramref name="now"/> is its clock).</summary>
    public static JobRecord Scheduled(string id, JobSpec spec, string scheduleId, DateTimeOffset tick, DateTimeOffset now) =>
        Submitted(id, spec, now, null) with { ScheduleId = scheduleId, ScheduledFor = tick };

    /// <summary>Pending → Assigned to <paramref name="workerId"/> under the leader's <paramref name="epoch"/>.</summary>
    public static JobRecord Assigned(JobRecord job, string workerId, long epoch, DateTimeOffset now) => job with
    {
        State = JobState.Assigned,
        WorkerId = workerId,
        Epoch = epoch,
        AssignedAt = now,
        StartedAt = null,
        NotBefore = null,
    };

    /// <summary>→ a terminal state. <c>FinishedAt</c> is the leader's clock, like every deadline it measures
    /// (retention counts from it).</summary>
    public static JobRecord Finished(JobRecord job, JobState state, DateTimeOffset now, string? error, int? exitCode, string? output) => job with
    {
        State = state,
        FinishedAt = now,
        Error = error is null ? null : Bound(error),
        ExitCode = exitCode,
        Output = output,
        NotBefore = null,
    };

    /// <summary>A Pending job cancelled before any attempt ran (by the API, or by the leader when the request
    /// raced with a requeue).</summary>
    public static JobRecord CancelledWhilePending(JobRecord job, DateTimeOffset now) =>
        Finished(job, JobState.Cancelled, now, CancelledBeforeItRan, job.ExitCode, job.Output);

    /// <summary>A live job that is out on a worker: the leader carries the request to its assignment.</summary>
    public static JobRecord CancelRequested(JobRecord job) => job with { CancelRequested = true };

    /// <summary>
    /// An attempt ended without success: the job is Cancelled when that was asked for; otherwise an infrastructure
    /// loss goes back to Pending at once (counted in <c>interruptions</c>), and a job's own failure goes back to
    /// Pending after the retry backoff, or to Failed when its attempts are spent. The attempt number always moves
    /// on: an assignment's name carries it, and a name is never reused.
    /// </summary>
    public static JobRecord AttemptEnded(
        JobRecord job, Fault fault, string error, int? exitCode, string? output, DateTimeOffset now, SchedulerOptions options)
    {
        if (job.CancelRequested)
        {
            return Finished(job, JobState.Cancelled, now, $"cancelled; last attempt: {error}", exitCode, output);
        }

        // Past the cap, losses count as the job's own: a job that keeps taking its workers down must end.
        var interruption = fault == Fault.Infrastructure && job.Interruptions < options.MaxInterruptions;
        var failures = job.Attempt - job.Interruptions; // attempts the job itself has used, this one included
        if (!interruption && failures >= job.Spec.MaxAttempts)
        {
            return Finished(job, JobState.Failed, now, error, exitCode, output);
        }

        return job with
        {
            State = JobState.Pending,
            Attempt = job.Attempt + 1,
            Interruptions = job.Interruptions + (interruption ? 1 : 0),
            WorkerId = null,
            AssignedAt = null,
            StartedAt = null,
            NotBefore = interruption ? null : now + options.BackoffBefore(failures + 1),
            ExitCode = exitCode,
            Output = output,
            Error = Bound(error),
        };
    }

    private static string Bound(string error) => error.Length <= Limits.MaxErrorLength ? error : error[..Limits.MaxErrorLength];
}
