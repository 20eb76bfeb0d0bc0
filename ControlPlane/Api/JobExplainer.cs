using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>What <see cref="JobExplainer.Explain"/> judges a job by: its records as read, and the leader's published
/// queue status. Everything is optional but the job.</summary>
/// <param name="Job">The job record.</param>
/// <param name="Revision">The revision the job was read at.</param>
/// <param name="Assignment">The current attempt's assignment, for an Assigned job: null when absent or unreadable.</param>
/// <param name="Worker">The registration of the job's worker, for an Assigned job: null when gone.</param>
/// <param name="Suspect">The worker's suspect marker, if any.</param>
/// <param name="DrainRequested">The worker has a drain request.</param>
/// <param name="Status">The current leader's queue status, or null (no leader, or it has not published yet).</param>
/// <param name="GroupHead">The record of the job its FIFO group waits for, when the status names one.</param>
/// <param name="Now">This director's clock (only to say "in 5 s" for people).</param>
/// <param name="Dependencies">For a Waiting job: the records of its dependencies, in <c>dependsOn</c> order (null for
/// one that does not exist or cannot be read).</param>
/// <param name="Workflow">For a Waiting job of a workflow: the workflow's record (null when it does not exist).</param>
internal sealed record ExplainInputs(
    JobRecord Job, long Revision, AssignmentRecord? Assignment = null, WorkerRecord? Worker = null, SuspectRecord? Suspect = null,
    bool DrainRequested = false, QueueStatusRecord? Status = null, JobRecord? GroupHead = null, DateTimeOffset Now = default,
    IReadOnlyList<JobRecord?>? Dependencies = null, Contracts.Workflows.WorkflowRecord? Workflow = null);

/// <summary>
/// Why a job is (not) running, as a pure function of <see cref="ExplainInputs"/>, so every reason has a unit test
/// without a store. A Pending job is judged in the order the leader judges it: cancellation, retry backoff, FIFO
/// group, concurrency key (<see cref="QueueStatusRecord.ConcurrencyKeys"/>), then its requirement class as the
/// leader's last pass found it (<see cref="QueueStatusRecord.Unplaced"/>).
/// </summary>
internal static class JobExplainer
{
    /// <summary>The explanation of <paramref name="input"/>'s job.</summary>
    public static JobExplanation Explain(ExplainInputs input, AdmissionOptions admission)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(admission);
        var job = input.Job;
        var reasons = new List<ExplainReason>();
        var state = job.State;
        DateTimeOffset? since = job.CreatedAt;
        DateTimeOffset? judgedAt = null;
        string? workerId = null;
        if (job.State.IsTerminal())
        {
            since = job.FinishedAt;
            var how = job.Error is { Length: > 0 } error ? $": {error}" : job.ExitCode is { } code ? $" (exit code {code})" : "";
            reasons.Add(new(ExplainCodes.Finished, $"finished {job.State}{At(job.FinishedAt)} after {Plural(job.Attempt, "attempt")}{how}"));
        }
        else if (job.State is JobState.Assigned or JobState.Running)
        {
            workerId = job.WorkerId;
            (state, since) = OnWorker(input, reasons);
        }
        else if (job.State == JobState.Waiting)
        {
            Waiting(input, reasons);
        }
        else
        {
            judgedAt = Pending(input, admission, reasons);
        }

        return new JobExplanation
        {
            Id = job.Id,
            State = state,
            Attempt = job.Attempt,
            Summary = reasons.Count > 0 ? reasons[0].Message : "",
            Reasons = reasons,
            WorkerId = workerId,
            Since = since,
            JudgedAt = judgedAt,
            Revision = input.Revision,
        };
    }

    private static (JobState State, DateTimeOffset? Since) OnWorker(ExplainInputs input, List<ExplainReason> reasons)
    {
        var job = input.Job;
        var worker = job.WorkerId ?? "?";
        var state = job.State;
        DateTimeOffset? since = job.AssignedAt;
        if (input.Assignment is { State: not AttemptState.Assigned } running)
        {
            state = JobState.Running;
            since = running.StartedAt ?? job.StartedAt ?? job.AssignedAt;
            var progress = running.Progress is { Length: > 0 } p ? $"; last progress: {p}" : "";
            reasons.Add(new(ExplainCodes.Running, $"running on worker {worker} since {Time(since)} (attempt {job.Attempt}){progress}"));
        }
        else if (input.Assignment is not null)
        {
            reasons.Add(new(ExplainCodes.Assigned, $"assigned to worker {worker} at {Time(job.AssignedAt)} (attempt {job.Attempt}); its agent has not confirmed the start yet (the leader takes it back after Scheduler:StartTimeout)"));
        }
        else
        {
            reasons.Add(new(ExplainCodes.AssignmentMissing, $"recorded as assigned to worker {worker} (attempt {job.Attempt}) but its assignment is missing: the leader returns it to Pending after Scheduler:StartTimeout"));
        }

        if (job.CancelRequested)
        {
            reasons.Add(new(ExplainCodes.CancelRequested, $"cancellation was requested: worker {worker} stops it"));
        }

        if (input.Worker is null)
        {
            reasons.Add(new(ExplainCodes.WorkerGone, $"worker {worker} is gone (its registration ended): the leader takes the attempt back and places the job again"));
        }
        else
        {
            if (input.Suspect is { } suspect)
            {
                reasons.Add(new(ExplainCodes.WorkerSuspect, $"worker {worker} is suspect since {Time(suspect.Since)}: {suspect.Reason}; it gets no new work, and an attempt with a timeout is taken back after it plus Scheduler:TimeoutGrace"));
            }

            if (input.Worker.Draining || input.DrainRequested)
            {
                reasons.Add(new(ExplainCodes.WorkerDraining, $"worker {worker} is draining: it finishes what it runs and takes no new work"));
            }
        }

        return (state, since);
    }

    /// <summary>Why a job of workflow <paramref name="workflowId"/> cannot be judged on its dependencies (yet), or null
    /// when its workflow is committed: the leader's gate, in words.</summary>
    private static string? WorkflowHolds(string workflowId, Contracts.Workflows.WorkflowRecord? workflow) => workflow switch
    {
        null => $"its workflow {workflowId} does not exist (a hand edit?): the leader keeps it waiting",
        { State: Contracts.Workflows.WorkflowState.Staging } => $"its workflow {workflowId} is still being submitted (staging until {Time(workflow.StagingUntil ?? workflow.CreatedAt)}): no job of it starts before the commit",
        { State: Contracts.Workflows.WorkflowState.Aborted } => $"its workflow {workflowId} was aborted ({workflow.Error}): the leader skips this job",
        { CancelRequested: true } => $"its workflow {workflowId} was cancelled: the leader cancels this job",
        _ => null,
    };

    /// <summary>Most unfinished dependencies named one by one; the rest are counted.</summary>
    internal const int MaxNamedDependencies = 5;

    /// <summary>Reasons of a Waiting job, judged the way the leader judges it: a dependency that rules it out first,
    /// then the dependencies not final yet, then its time.</summary>
    private static void Waiting(ExplainInputs input, List<ExplainReason> reasons)
    {
        var job = input.Job;
        if (job.WorkflowId is { } workflowId && WorkflowHolds(workflowId, input.Workflow) is { } held)
        {
            reasons.Add(new(ExplainCodes.Workflow, held));
            return;
        }

        var dependencies = job.Spec.DependsOn ?? [];
        var unfinished = new List<(JobDependency Dependency, JobRecord Record)>();
        for (var i = 0; i < dependencies.Count; i++)
        {
            var dependency = dependencies[i];
            var upstream = input.Dependencies is { } read && i < read.Count ? read[i] : null;
            if (upstream is null)
            {
                reasons.Add(new(ExplainCodes.DependencyRulesOut, $"dependency {dependency.Job} no longer exists or cannot be read: the leader skips this job"));
                return;
            }

            if (!upstream.State.IsTerminal())
            {
                unfinished.Add((dependency, upstream));
            }
            else if (!dependency.IsSatisfiedBy(upstream.State))
            {
                reasons.Add(new(ExplainCodes.DependencyRulesOut, $"dependency {dependency.Job} ended {upstream.State} ({JobTransitions.Needs(dependency.On)}): the leader skips this job"));
                return;
            }
        }

        foreach (var (dependency, upstream) in unfinished.Take(MaxNamedDependencies))
        {
            reasons.Add(new(ExplainCodes.Dependency, $"waits for job {dependency.Job} to end ({JobTransitions.Needs(dependency.On)}); it is {upstream.State}"));
        }

        if (unfinished.Count > MaxNamedDependencies)
        {
            reasons.Add(new(ExplainCodes.Dependency, $"and {Plural(unfinished.Count - MaxNamedDependencies, "more job")} of its {dependencies.Count} dependencies not final yet"));
        }

        if (job.NotBefore is { } notBefore && (unfinished.Count > 0 || notBefore > input.Now))
        {
            reasons.Add(new(ExplainCodes.RunAt, $"not before {Time(notBefore)} on the leader's clock{(notBefore > input.Now ? $" (in {Duration(notBefore - input.Now)})" : "")}"));
        }

        if (reasons.Count == 0)
        {
            reasons.Add(new(ExplainCodes.Releasing, "nothing left to wait for: the leader makes it Pending in its next pass"));
        }
    }

    /// <summary>Reasons of a Pending job; returns when the leader judged it (the status used), if one was.</summary>
    private static DateTimeOffset? Pending(ExplainInputs input, AdmissionOptions admission, List<ExplainReason> reasons)
    {
        var job = input.Job;
        var status = input.Status;
        if (job.CancelRequested)
        {
            reasons.Add(new(ExplainCodes.CancelRequested, "cancellation was requested: the leader cancels it in its next pass"));
            return null;
        }

        if (job.NotBefore is { } notBefore && notBefore > input.Now)
        {
            var last = job.Error is { Length: > 0 } error ? $"; the last attempt ended: {error}" : "";
            reasons.Add(new(ExplainCodes.Backoff, $"retry backoff: attempt {job.Attempt} may start at {Time(notBefore)} (in {Duration(notBefore - input.Now)}){last}"));
            AdmissionNotes(job, status, admission, reasons);
            return null;
        }

        if (status is null)
        {
            reasons.Add(new(ExplainCodes.NoLeader, "no leader's queue status is available (no director leads, or a new leader has not completed its first pass): nothing is placed until a leader does"));
            return null;
        }

        if (job.Spec.Group is { } group && Group(input, group, status, reasons))
        {
            AdmissionNotes(job, status, admission, reasons);
            return status.At;
        }

        if (job.Spec.Concurrency is { } concurrency && Key(concurrency, status, reasons))
        {
            AdmissionNotes(job, status, admission, reasons);
            return status.At;
        }

        var need = Requirement.Of(job.Spec);
        var cls = status.Unplaced?.FirstOrDefault(c => Matches(c, need));
        if (cls is not null)
        {
            reasons.Add(Unplaced(cls));
        }
        else if (status.UnplacedOmitted > 0)
        {
            reasons.Add(new(ExplainCodes.NotListed, $"the leader's last pass set aside {Plural(status.UnplacedOmitted, "more class", "more classes")} of jobs it could not place than its status lists; compare the job's executor, features, constraints and slots with `cpctl workers`"));
        }
        else
        {
            reasons.Add(new(ExplainCodes.Queued, $"queued: the leader's last pass (at {Time(status.At)}) had a worker for jobs like it; it is placed when its turn comes (priority, then submission order; {status.Pending} jobs are pending)"));
        }

        AdmissionNotes(job, status, admission, reasons);
        return status.At;
    }

    /// <summary>Adds the group's reason and returns true when the job waits behind another job of its group.</summary>
    private static bool Group(ExplainInputs input, string group, QueueStatusRecord status, List<ExplainReason> reasons)
    {
        var job = input.Job;
        if (status.GroupHeads is { } heads && heads.TryGetValue(group, out var head))
        {
            if (head.Job == job.Id)
            {
                return false; // the group's turn is this job's: judged by its class
            }

            var ahead = input.GroupHead;
            var where = ahead switch
            {
                null => "",
                { State: JobState.Assigned or JobState.Running } a => $", {a.State} on worker {a.WorkerId}",
                var a => $", {a.State}",
            };
            reasons.Add(new(ExplainCodes.FifoGroup, $"waits for its FIFO group '{group}': behind job {head.Job}{where} (the group runs one job at a time in submission order; {Plural(head.Pending, "job")} of it pending)"));
            return true;
        }

        if (status.GroupHeadsOmitted > 0)
        {
            reasons.Add(new(ExplainCodes.FifoGroup, $"may be waiting for its FIFO group '{group}': the leader's status lists only the {status.GroupHeads?.Count ?? 0} groups with the most pending jobs; `cpctl list --group {group}` shows the job ahead"));
            return true;
        }

        return false;
    }

    /// <summary>Adds the key's reason and returns true when the leader's last pass held the job back for its key.</summary>
    private static bool Key(JobConcurrency concurrency, QueueStatusRecord status, List<ExplainReason> reasons)
    {
        if (status.ConcurrencyKeys?.GetValueOrDefault(concurrency.Key) is { } held && held.Out >= concurrency.Limit)
        {
            reasons.Add(new(ExplainCodes.ConcurrencyLimit,
                $"concurrency key '{concurrency.Key}' is full: {held.Out} of {concurrency.Limit} running (jobs with the key are out on workers at most {concurrency.Limit} at once; {Plural(held.Waiting, "job")} of it wait)"));
            return true;
        }

        if (status.ConcurrencyKeysOmitted > 0 && status.ConcurrencyKeys?.ContainsKey(concurrency.Key) != true)
        {
            reasons.Add(new(ExplainCodes.ConcurrencyLimit,
                $"may be waiting for its concurrency key '{concurrency.Key}' (limit {concurrency.Limit}): the leader's status lists only the {status.ConcurrencyKeys?.Count ?? 0} full keys with the most waiting jobs"));
            return true;
        }

        return false;
    }

    private static ExplainReason Unplaced(UnplacedClass c)
    {
        var jobs = Plural(c.Jobs, "job");
        if (c.Workers == 0)
        {
            return new(ExplainCodes.NoWorkers, $"no worker is registered ({jobs} like it wait)");
        }

        if (c.WithoutExecutor == c.Workers)
        {
            return new(ExplainCodes.NoExecutor, $"no worker has the executor '{c.Executor}' ({Of(c.WithoutExecutor, c.Workers)} lack it; {jobs} like it wait)");
        }

        var withExecutor = c.Workers - c.WithoutExecutor;
        if (c.WithoutFeatures == withExecutor)
        {
            var missing = string.Join(", ", (c.MissingFeatures ?? new Dictionary<string, int>()).OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key} (missing on {f.Value})"));
            return new(ExplainCodes.NoFeature, $"no worker with executor '{c.Executor}' has every feature it needs: {missing} of {Plural(withExecutor, "worker")} with the executor; {jobs} like it wait");
        }

        var withFeatures = withExecutor - c.WithoutFeatures;
        if (c.WithoutLabels == withFeatures)
        {
            var missing = string.Join(", ", (c.MissingLabels ?? new Dictionary<string, int>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key} (missing on {l.Value})"));
            return new(ExplainCodes.NoLabel, $"no worker has the labels it needs: {missing} of {Plural(withFeatures, "worker")} with executor '{c.Executor}'; {jobs} like it wait");
        }

        var capable = withFeatures - c.WithoutLabels;
        var notReady = c.Suspect + c.Draining + c.OtherProtocol;
        var why = string.Join(", ", new[] { (c.Suspect, "suspect"), (c.Draining, "draining"), (c.OtherProtocol, "on another protocol version") }.Where(p => p.Item1 > 0).Select(p => $"{p.Item1} {p.Item2}"));
        if (notReady == capable)
        {
            return new(ExplainCodes.NotReady, $"the {Plural(capable, "worker")} that could run it take no new work: {why}; {jobs} like it wait");
        }

        if (c.Full > 0 && notReady + c.Full == capable)
        {
            var others = notReady > 0 ? $" ({why} besides)" : "";
            return new(ExplainCodes.Full, $"every capable worker is full: {Plural(c.Full, "worker")}, at most {Plural(c.MostFree, "free slot")} on any (it needs {c.Slots}){others}; {jobs} like it wait");
        }

        return new(ExplainCodes.Queued, $"a capable worker had room after the leader's last pass: it is placed in a coming pass ({jobs} like it wait)");
    }

    private static void AdmissionNotes(JobRecord job, QueueStatusRecord? status, AdmissionOptions admission, List<ExplainReason> reasons)
    {
        if (status is null)
        {
            return;
        }

        if (admission.MaxPending > 0 && status.Pending >= admission.MaxPending)
        {
            reasons.Add(new(ExplainCodes.Admission, $"admission control refuses new jobs: {status.Pending} are pending and Scheduler:MaxPending is {admission.MaxPending} (this job was accepted; it waits for the reasons above)"));
        }
        else if (job.Spec.Group is { } group && admission.MaxPendingPerGroup > 0 && status.Groups.TryGetValue(group, out var inGroup) && inGroup >= admission.MaxPendingPerGroup)
        {
            reasons.Add(new(ExplainCodes.Admission, $"admission control refuses new jobs of group '{group}': {inGroup} are pending and Scheduler:MaxPendingPerGroup is {admission.MaxPendingPerGroup} (this job was accepted; it waits for the reasons above)"));
        }
    }

    private static bool Matches(UnplacedClass c, Requirement need) =>
        c.Executor == need.Executor && c.Slots == need.Slots
        && c.Features.SequenceEqual(need.Features, StringComparer.Ordinal)
        && c.Constraints.Count == need.Constraints.Length
        && need.Constraints.All(k => c.Constraints.TryGetValue(k.Key, out var v) && v == k.Value);

    private static string Of(int part, int whole) => $"{part} of {Plural(whole, "worker")}";

    private static string Plural(int count, string one, string? many = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many ?? one + "s")}");

    private static string At(DateTimeOffset? at) => at is null ? "" : " at " + Time(at);

    private static string Time(DateTimeOffset? at) =>
        at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "an unknown time";

    private static string Duration(TimeSpan span) => span.TotalSeconds < 120
        ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalSeconds):0} s")
        : span.TotalMinutes < 120 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalMinutes):0} min")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} h");
}
