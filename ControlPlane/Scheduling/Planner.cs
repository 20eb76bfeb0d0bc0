using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Decides one reconciliation pass: judges the items of the <see cref="LeaderState"/> that changed or fell due since
/// the last pass, places jobs from the queue, and returns the writes that close the gap between what the store
/// records and what should be. No I/O and no clock of its own, so every rule is unit-tested on hand-built state and
/// a pass can be replayed; the cost is O(changed + due + placements), not O(jobs × workers). An item that needs no
/// write and no deadline is never looked at again until it changes, so a full rebuild (every item dirty) and the
/// incremental state plan the same writes. Every write is conditioned on the versions it read, so a plan made from
/// a stale view fails in the store instead of doing harm; its items are judged again in the next pass.
/// </summary>
internal sealed partial class Planner
{
    /// <summary>Finished jobs removed per pass at most: each may cost the executor one read.</summary>
    internal const int MaxRemovalsPerPass = 500;

    private readonly SchedulerOptions _options;

    public Planner(SchedulerOptions options) => _options = options;

    /// <summary>When this leader's term started (its clock): schedule ticks before it passed while nobody led, and
    /// their catch-up policy applies (<see cref="ScheduleTicks"/>).</summary>
    public DateTimeOffset TermStarted { get; init; } = DateTimeOffset.MinValue;

    /// <summary>Plans one pass over <paramref name="state"/> at <paramref name="now"/> (the leader's clock).</summary>
    public Plan PlanPass(LeaderState state, long epoch, DateTimeOffset now)
    {
        foreach (var item in state.Deadlines.TakeDue(now))
        {
            state.MarkDue(item);
        }

        var pass = new Pass(state, new Plan(), epoch, now);
        var jobs = Take(state.DirtyJobs);
        var assignments = new SortedSet<string>(state.DirtyAssignments, StringComparer.Ordinal);
        state.DirtyAssignments.Clear();
        foreach (var jobId in jobs)
        {
            foreach (var a in state.AssignmentsOf(jobId))
            {
                assignments.Add(a.Key);
            }
        }

        var workers = Take(state.DirtyWorkers);
        var schedules = Take(state.DirtySchedules);
        var workflows = Take(state.DirtyWorkflows);
        var keyRecords = Take(state.DirtyKeyRecords);
        pass.Plan.Evaluated = jobs.Count + assignments.Count + workers.Count + schedules.Count + workflows.Count + keyRecords.Count;

        ReconcileAssignments(pass, assignments);
        ReconcileJobs(pass, jobs);
        ReconcileSuspects(pass, workers);
        ReconcileSchedules(pass, schedules);
        ReconcileWorkflows(pass, workflows);
        ReconcileKeyRecords(pass, keyRecords);
        Place(pass);
        RemoveExpired(pass);

        // Jobs written in this pass are judged again in the next one, whatever their writes' fate, and so are those
        // whose judgement was deferred.
        state.DirtyJobs.UnionWith(pass.Touched);
        state.DirtyJobs.UnionWith(pass.Deferred);
        state.DirtyKeyRecords.UnionWith(pass.DeferredKeyRecords);
        pass.Plan.Pending = state.Count(JobState.Pending);
        if (state.Deadlines.Next is { } next)
        {
            pass.Plan.DueAt(next);
        }

        return pass.Plan;
    }

    private static List<string> Take(HashSet<string> dirty)
    {
        var taken = dirty.Order(StringComparer.Ordinal).ToList();
        dirty.Clear();
        return taken;
    }

    private void ReconcileAssignments(Pass p, SortedSet<string> keys)
    {
        var s = p.State;
        foreach (var key in keys)
        {
            s.Deadlines.Clear(new Item(ItemKind.Assignment, key));
            if (!s.Assignments.TryGetValue(key, out var a))
            {
                continue;
            }

            s.Jobs.TryGetValue(a.JobId, out var job);
            if (job is null || job.Record.State is not (JobState.Assigned or JobState.Running)
                || job.Record.WorkerId != a.WorkerId || job.Record.Attempt != a.Attempt)
            {
                // The job moved on (or is gone): nothing may run this attempt any more. Deleting the assignment
                // withdraws it from the agent and makes any late report fail. The delete is conditioned on the job
                // as this pass saw it: a jobs cache lagging behind the assignments cache must not withdraw an
                // attempt the job record (newer in the store) still points at. The job is not placed again in this
                // pass (a stale job record could name the withdrawn key again).
                s.SetHolds(a, 0);
                p.Touched.Add(a.JobId);
                p.Plan.Add(Writes.Withdraw(a, job));
                continue;
            }

            var record = a.Record;
            if (record is not null && record.IsFinished)
            {
                s.SetHolds(a, 0);
                p.Touched.Add(job.Record.Id);
                Finish(p, job, a, record);
                continue;
            }

            var reason = WhyTakeBack(p, job, a, out var fault, out var fenced);
            if (reason is not null)
            {
                s.SetHolds(a, 0);
                p.Touched.Add(job.Record.Id);
                var next = JobTransitions.AttemptEnded(job.Record, fault, reason, fault == Fault.Job ? null : record?.ExitCode, record?.Output, p.Now, _options);
                p.Plan.Add(fenced is null
                    ? Writes.JobAndAssignment(WriteKind.TakeBack, job, next, a, reason)
                    : Writes.TakeBackFenced(job, next, a, fenced, reason));
                continue;
            }

            if (job.Record.CancelRequested && record is not null && !record.CancelRequested)
            {
                if (record.State == AttemptState.Assigned)
                {
                    // Not started: cancel it here. If the agent confirms the start concurrently, one of the two
                    // conditional writes fails and the next pass sees the truth.
                    s.SetHolds(a, 0);
                    p.Touched.Add(job.Record.Id);
                    var cancelled = JobTransitions.Finished(job.Record, JobState.Cancelled, p.Now, "cancelled before it started", null, null);
                    p.Plan.Add(Writes.JobAndAssignment(WriteKind.Cancel, job, cancelled, a, "cancel before start"));
                    continue;
                }

                p.Plan.Add(Writes.Assignment(WriteKind.Cancel, job.Record.Id, a, record with { CancelRequested = true }, "carry cancellation"));
            }

            s.SetHolds(a, record?.Slots ?? job.Record.Spec.Slots);
        }
    }

    /// <summary>Why an unfinished attempt must be withdrawn now, or null; also sets its next deadline. <paramref name="fenced"/>
    /// is the worker whose registration the take-back must be conditioned on (a take-back after its beat fence).</summary>
    private string? WhyTakeBack(Pass p, JobInfo job, AssignmentInfo a, out Fault fault, out WorkerInfo? fenced)
    {
        fault = Fault.Infrastructure;
        fenced = null;
        var record = a.Record;
        if (!p.State.Workers.TryGetValue(a.WorkerId, out var worker))
        {
            return $"worker {a.WorkerId} left";
        }

        if (record is not null && record.WorkerSession != worker.Session)
        {
            return $"worker {a.WorkerId} restarted (session {record.WorkerSession:x} ended)";
        }

        if (record is not null && BeatFenced(p, worker) is { } silent)
        {
            fenced = worker;
            return silent;
        }

        var item = new Item(ItemKind.Assignment, a.Key);
        if (record is null || record.State == AttemptState.Assigned)
        {
            var deadline = a.FirstSeen + _options.StartTimeout;
            if (p.Now >= deadline)
            {
                return record is null
                    ? "the assignment record could not be read"
                    : $"worker {a.WorkerId} did not start it within {_options.StartTimeout.TotalSeconds:0.#} s";
            }

            if (record is not null && TakeBackUnstarted(p, worker, a, ref deadline) is { } unstarted)
            {
                return unstarted;
            }

            p.State.Deadlines.Set(item, deadline);
            return null;
        }

        if (job.Record.Spec.TimeoutSeconds is { } seconds)
        {
            var deadline = (a.RunningSince ?? a.FirstSeen) + TimeSpan.FromSeconds(seconds) + _options.TimeoutGrace;
            if (p.Now >= deadline)
            {
                fault = Fault.Job;
                return $"timed out after {seconds} s and worker {a.WorkerId} did not report within the {_options.TimeoutGrace.TotalSeconds:0.#} s grace";
            }

            p.State.Deadlines.Set(item, deadline);
        }

        return null;
    }

    private void Finish(Pass p, JobInfo job, AssignmentInfo a, AssignmentRecord report)
    {
        var record = job.Record with { StartedAt = report.StartedAt ?? job.Record.StartedAt };
        var (next, detail) = report.State switch
        {
            AttemptState.Succeeded => (JobTransitions.Finished(record, JobState.Succeeded, p.Now, report.Error, report.ExitCode, report.Output), "succeeded"),
            AttemptState.Cancelled => (JobTransitions.Finished(record, JobState.Cancelled, p.Now, report.Error ?? "cancelled", report.ExitCode, report.Output), "cancelled"),

            // Lost: the agent stopped it (fenced, drained, restarted): not the job's doing.
            AttemptState.Lost => Ended(
                JobTransitions.AttemptEnded(record, Fault.Infrastructure, $"attempt {a.Attempt} lost on worker {a.WorkerId}: {report.Error ?? "no reason given"}", report.ExitCode, report.Output, p.Now, _options)),
            _ => Ended(JobTransitions.AttemptEnded(record, Fault.Job, report.Error ?? $"exited with code {report.ExitCode}", report.ExitCode, report.Output, p.Now, _options)),
        };
        var write = Writes.JobAndAssignment(WriteKind.Finish, job, next, a, detail);
        // What a rollout counts (RolloutController): successes and the job's own failures, by the worker's features.
        p.Plan.Add(report.State is AttemptState.Succeeded or AttemptState.Failed
            ? write with { Outcome = new AttemptOutcome(p.State.Workers.GetValueOrDefault(a.WorkerId)?.Record.Features, report.State == AttemptState.Failed) }
            : write);

        static (JobRecord, string) Ended(JobRecord next) => (next, next.Error ?? next.State.ToString());
    }

    /// <summary>
    /// Judges changed jobs: a job recorded as out on a worker whose assignment is missing (deleted by hand, or a torn
    /// history) goes back to Pending once it has been missing for the start timeout; a Pending job joins or leaves
    /// the queue (or is cancelled, when that raced with a requeue); a finished one is removed after retention.
    /// </summary>
    private void ReconcileJobs(Pass p, List<string> jobIds)
    {
        var s = p.State;
        foreach (var jobId in jobIds)
        {
            var item = new Item(ItemKind.Job, jobId);
            s.Deadlines.Clear(item);
            if (!s.Jobs.TryGetValue(jobId, out var job))
            {
                s.Queue.Remove(jobId);
                continue;
            }

            var record = job.Record;
            if (record.State is JobState.Assigned or JobState.Running)
            {
                s.Queue.Remove(jobId);
                CheckAssignmentPresent(p, job, item);
            }
            else if (record.State == JobState.Pending)
            {
                s.MissingSince.Remove(jobId);
                Enqueue(p, job, item);
            }
            else if (record.State == JobState.Waiting)
            {
                s.MissingSince.Remove(jobId);
                s.Queue.Remove(jobId);
                JudgeWaiting(p, job, item);
            }
            else
            {
                s.MissingSince.Remove(jobId);
                s.Queue.Remove(jobId);

                // Kept past retention while a Waiting job still needs its outcome: the dependent's release or skip
                // marks this job again (LeaderState), and retention is judged then.
                if (record.FinishedAt is { } finished && !p.Touched.Contains(jobId) && !s.HasWaitingDependents(jobId))
                {
                    var expiry = finished + _options.Retention;
                    if (p.Now >= expiry)
                    {
                        p.Expired.Add((expiry, job));
                    }
                    else
                    {
                        s.Deadlines.Set(item, expiry);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Judges a Waiting job: Skipped as soon as one dependency has ended in a state its condition rules out (or is
    /// gone), Pending once every dependency has ended as needed and its <c>notBefore</c> has passed on this leader's
    /// clock; otherwise left alone until a dependency ends (<see cref="LeaderState"/> marks it then) or its time comes
    /// (a deadline). Dependencies are read from this leader's state, which holds only committed records, so a job is
    /// released only after its dependencies' final states are in the store. Cost: O(its dependencies), at most once per
    /// pass in which one of them ended.
    /// </summary>
    private void JudgeWaiting(Pass p, JobInfo job, Item item)
    {
        var record = job.Record;
        if (p.Touched.Contains(record.Id))
        {
            return; // judged again next pass
        }

        if (p.Released >= _options.MaxPlacementsPerPass)
        {
            // A dependency with 100,000 dependents must not make one pass of 100,000 writes (the loop would do nothing
            // else for many seconds, and the watchdog counts): the rest are judged in the passes that follow at once.
            p.Deferred.Add(record.Id);
            p.Plan.DueAt(p.Now);
            return;
        }

        if (record.WorkflowId is not null && !JudgeWorkflowGate(p, job))
        {
            return;
        }

        if (record.CancelRequested)
        {
            // The API cancels Waiting jobs itself; this covers a request that raced with a release.
            p.Touched.Add(record.Id);
            p.Released++;
            p.Plan.Add(Writes.Job(WriteKind.Cancel, job, JobTransitions.CancelledWhilePending(record, p.Now), "cancel waiting", null));
            return;
        }

        var unfinished = false;
        foreach (var dependency in record.Spec.DependsOn ?? [])
        {
            string? why = null;
            if (!p.State.Jobs.TryGetValue(dependency.Job, out var upstream))
            {
                why = $"skipped: dependency {dependency.Job} no longer exists or cannot be read ({JobTransitions.Needs(dependency.On)})";
            }
            else if (!upstream.Record.State.IsTerminal())
            {
                unfinished = true;
            }
            else if (!dependency.IsSatisfiedBy(upstream.Record.State))
            {
                why = $"skipped: dependency {dependency.Job} ended {upstream.Record.State} ({JobTransitions.Needs(dependency.On)})";
            }

            if (why is not null)
            {
                p.Touched.Add(record.Id);
                p.Released++;
                p.Plan.Add(Writes.Job(WriteKind.Skip, job, JobTransitions.Skipped(record, why, p.Now), why, null));
                return;
            }
        }

        if (unfinished)
        {
            return;
        }

        if (record.NotBefore is { } notBefore && notBefore > p.Now)
        {
            p.State.Deadlines.Set(item, notBefore);
            return;
        }

        p.Touched.Add(record.Id);
        p.Released++;
        p.Plan.Add(Writes.Job(WriteKind.Release, job, JobTransitions.Released(record), "released", null));
    }

    private void CheckAssignmentPresent(Pass p, JobInfo job, Item item)
    {
        var s = p.State;
        var record = job.Record;
        if (s.AssignmentsOf(record.Id).Any(a => a.Attempt == record.Attempt))
        {
            s.MissingSince.Remove(record.Id);
            return;
        }

        if (!s.MissingSince.TryGetValue(record.Id, out var since))
        {
            since = p.Now;
            s.MissingSince[record.Id] = since;
        }

        var deadline = since + _options.StartTimeout;
        if (p.Touched.Contains(record.Id))
        {
            return;
        }

        if (p.Now < deadline)
        {
            s.Deadlines.Set(item, deadline);
            return;
        }

        // Conditioned on the assignment's absence in the store: an assignments cache that lags behind cannot make a
        // second attempt start while the first one runs.
        p.Touched.Add(record.Id);
        var why = $"the assignment of attempt {record.Attempt} on worker {record.WorkerId} is missing";
        var next = JobTransitions.AttemptEnded(record, Fault.Infrastructure, why, null, null, p.Now, _options);
        var missing = record.WorkerId is { } worker ? StoreLayout.Assignment(worker, record.Id, record.Attempt) : null;
        p.Plan.Add(Writes.Job(WriteKind.TakeBack, job, next, why, missing));
    }

    /// <summary>
    /// Judges changed and due schedules (<see cref="ScheduleTicks"/>): one write per schedule with due ticks, and
    /// its next tick as its deadline. A tick that would cancel (<c>replace</c>) a run this pass already writes waits
    /// for the next pass, so a job is never written twice in one pass. Cost: O(schedules judged × ticks they fire).
    /// </summary>
    private void ReconcileSchedules(Pass p, List<string> scheduleIds)
    {
        var s = p.State;
        foreach (var id in scheduleIds)
        {
            var item = new Item(ItemKind.Schedule, id);
            s.Deadlines.Clear(item);
            if (!s.Schedules.TryGetValue(id, out var schedule))
            {
                continue;
            }

            var (firing, due) = ScheduleTicks.Judge(schedule, p.Now, TermStarted, p.Epoch, s.ActiveRuns(id), s.Jobs.ContainsKey);
            if (firing is not null && firing.Cancelled.Any(c => p.Touched.Contains(c.Job.Record.Id)))
            {
                // replace would cancel a run this pass already writes: judged again in the next pass.
                s.DirtySchedules.Add(id);
                continue;
            }

            if (firing is not null)
            {
                foreach (var (job, _) in firing.Cancelled)
                {
                    p.Touched.Add(job.Record.Id);
                }

                p.Plan.Add(Writes.Fire(schedule, firing));
            }

            // A write re-marks the schedule when it lands (its record changes) or fails; the deadline covers the rest.
            if (due is { } at)
            {
                s.Deadlines.Set(item, at);
            }
        }
    }

    private void RemoveExpired(Pass p)
    {
        p.Expired.Sort((x, y) => x.Expiry != y.Expiry ? x.Expiry.CompareTo(y.Expiry) : string.CompareOrdinal(x.Job.Record.Id, y.Job.Record.Id));
        for (var i = 0; i < p.Expired.Count; i++)
        {
            var (expiry, job) = p.Expired[i];
            if (i >= MaxRemovalsPerPass)
            {
                // A backlog (e.g. after a long outage) is worked off over several passes, so no pass outlives the
                // watchdog: what is left stays due.
                p.State.Deadlines.Set(new Item(ItemKind.Job, job.Record.Id), expiry);
                continue;
            }

            // The idempotency record goes too; the executor looks it up first (the leader does not cache that tree).
            p.Plan.Add(Writes.Remove(job));
        }
    }

    /// <summary>What one pass has decided so far.</summary>
    private sealed class Pass(LeaderState state, Plan plan, long epoch, DateTimeOffset now)
    {
        public LeaderState State { get; } = state;

        public Plan Plan { get; } = plan;

        public long Epoch { get; } = epoch;

        public DateTimeOffset Now { get; } = now;

        /// <summary>Jobs this pass writes (or withdraws an attempt of): not written twice, not placed.</summary>
        public HashSet<string> Touched { get; } = new(StringComparer.Ordinal);

        /// <summary>Finished jobs past retention.</summary>
        public List<(DateTimeOffset Expiry, JobInfo Job)> Expired { get; } = [];

        /// <summary>Waiting jobs released or skipped in this pass (at most <see cref="SchedulerOptions.MaxPlacementsPerPass"/>).</summary>
        public int Released { get; set; }

        /// <summary>Waiting jobs left for the next pass once <see cref="Released"/> reached its cap.</summary>
        public List<string> Deferred { get; } = [];

        /// <summary>Concurrency records left for the next pass (removals past their cap, or not settled yet).</summary>
        public List<string> DeferredKeyRecords { get; } = [];

        /// <summary>The placements of each concurrency key in this pass, by its record's store key (one write each).</summary>
        public Dictionary<string, KeyedPlacement> Keyed { get; } = new(StringComparer.Ordinal);
    }
}
