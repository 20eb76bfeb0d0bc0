using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Decides one reconciliation pass: compares what the store records with what should be, and returns the writes
/// that close the gap. A pure function of the snapshot (no I/O, no clock of its own), so every rule is unit-tested
/// and a pass can be replayed. Every write is conditioned on the versions it read, so a plan made from a stale
/// snapshot fails in the store instead of doing harm; the next pass plans again.
/// </summary>
internal sealed partial class Planner
{
    /// <summary>Finished jobs removed per pass at most: each may cost the executor one read.</summary>
    internal const int MaxRemovalsPerPass = 500;

    private readonly SchedulerOptions _options;

    public Planner(SchedulerOptions options) => _options = options;

    public Plan PlanPass(SchedulerSnapshot snapshot)
    {
        var plan = new Plan();
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        var active = new HashSet<string>(StringComparer.Ordinal); // jobs whose assignment exists and stays
        var touched = new HashSet<string>(StringComparer.Ordinal); // jobs this plan already writes
        ReconcileAssignments(snapshot, plan, used, active, touched);
        ReconcileAssignedJobsWithoutAssignment(snapshot, plan, active, touched);
        ReconcileSuspects(snapshot, plan);
        Place(snapshot, plan, used, touched);
        RemoveExpired(snapshot, plan, touched);
        return plan;
    }

    private void ReconcileAssignments(
        SchedulerSnapshot s, Plan plan, Dictionary<string, int> used, HashSet<string> active, HashSet<string> touched)
    {
        // Jobs with an assignment withdrawn in this pass: not placed again in it (a stale job record could name the
        // withdrawn key again), but their current assignment, if any, is still reconciled and still holds its slots.
        var withdrawn = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in s.Assignments)
        {
            s.Jobs.TryGetValue(a.JobId, out var job);
            if (job is null || job.Record.State is not (JobState.Assigned or JobState.Running)
                || job.Record.WorkerId != a.WorkerId || job.Record.Attempt != a.Attempt)
            {
                // The job moved on (or is gone): nothing may run this attempt any more. Deleting the assignment
                // withdraws it from the agent and makes any late report fail. The delete is conditioned on the job
                // as this pass saw it: a jobs cache lagging behind the assignments cache must not withdraw an
                // attempt the job record (newer in the store) still points at.
                withdrawn.Add(a.JobId);
                var jobKey = job?.Key ?? (JobIds.IsValid(a.JobId) ? StoreLayout.Job(a.JobId) : null);
                plan.Writes.Add(new(WriteKind.Orphan, a.JobId, a.Key, 1, 0, tx =>
                {
                    if (job is not null)
                    {
                        tx.RequireVersion(job.Key, job.Version);
                    }
                    else if (jobKey is not null)
                    {
                        tx.RequireAbsent(jobKey);
                    }

                    tx.Delete(a.Key, a.Version);
                })
                {
                    Conditions = 1,
                });
                continue;
            }

            if (!touched.Add(job.Record.Id))
            {
                continue; // Two assignments for one attempt cannot exist (the key holds the attempt); be defensive.
            }

            var record = a.Record;
            if (record is not null && record.IsFinished)
            {
                Finish(s, plan, job, a, record);
                continue;
            }

            var reason = WhyTakeBack(s, plan, job, a, out var countsAsTimeout);
            if (reason is not null)
            {
                Retry(s, plan, job, a, WriteKind.TakeBack, reason, countsAsTimeout ? null : record?.ExitCode, record?.Output);
                continue;
            }

            if (job.Record.CancelRequested && record is not null && !record.CancelRequested)
            {
                if (record.State == AttemptState.Assigned)
                {
                    // Not started: cancel it here. If the agent confirms the start concurrently, one of the two
                    // conditional writes fails and the next pass sees the truth.
                    var cancelled = Terminal(s, job.Record, JobState.Cancelled, "cancelled before it started", null, null);
                    plan.Writes.Add(JobAndAssignment(WriteKind.Cancel, job, cancelled, a, "cancel before start"));
                    continue;
                }

                var flagged = ContractJson.Serialize(record with { CancelRequested = true });
                plan.Writes.Add(new(WriteKind.Cancel, job.Record.Id, a.Key, 1, flagged.Length,
                    tx => tx.Update(a.Key, flagged, a.Version)));
            }

            active.Add(job.Record.Id);
            used[a.WorkerId] = used.GetValueOrDefault(a.WorkerId) + (record?.Slots ?? job.Record.Spec.Slots);
        }

        touched.UnionWith(withdrawn);
    }

    /// <summary>Why an unfinished attempt must be withdrawn now, or null; also schedules the next check.</summary>
    private string? WhyTakeBack(SchedulerSnapshot s, Plan plan, JobInfo job, AssignmentInfo a, out bool timedOut)
    {
        timedOut = false;
        var record = a.Record;
        if (!s.Workers.TryGetValue(a.WorkerId, out var worker))
        {
            return $"worker {a.WorkerId} left";
        }

        if (record is not null && record.WorkerSession != worker.Session)
        {
            return $"worker {a.WorkerId} restarted (session {record.WorkerSession:x} ended)";
        }

        if (record is null || record.State == AttemptState.Assigned)
        {
            var deadline = a.FirstSeen + _options.StartTimeout;
            if (s.Now >= deadline)
            {
                return record is null
                    ? "the assignment record could not be read"
                    : $"worker {a.WorkerId} did not start it within {_options.StartTimeout.TotalSeconds:0.#} s";
            }

            plan.DueAt(deadline);
            return null;
        }

        if (job.Record.Spec.TimeoutSeconds is { } seconds)
        {
            var deadline = (a.RunningSince ?? a.FirstSeen) + TimeSpan.FromSeconds(seconds) + _options.TimeoutGrace;
            if (s.Now >= deadline)
            {
                timedOut = true;
                return $"timed out after {seconds} s and worker {a.WorkerId} did not report within the {_options.TimeoutGrace.TotalSeconds:0.#} s grace";
            }

            plan.DueAt(deadline);
        }

        return null;
    }

    private void Finish(SchedulerSnapshot s, Plan plan, JobInfo job, AssignmentInfo a, AssignmentRecord report)
    {
        var withReport = job.Record with { StartedAt = report.StartedAt ?? job.Record.StartedAt };
        switch (report.State)
        {
            // FinishedAt is the leader's clock, like every deadline it measures (retention counts from it).
            case AttemptState.Succeeded:
                plan.Writes.Add(JobAndAssignment(WriteKind.Finish, job,
                    Terminal(s, withReport, JobState.Succeeded, report.Error, report.ExitCode, report.Output), a, "succeeded"));
                break;
            case AttemptState.Cancelled:
                plan.Writes.Add(JobAndAssignment(WriteKind.Finish, job,
                    Terminal(s, withReport, JobState.Cancelled, report.Error ?? "cancelled", report.ExitCode, report.Output), a, "cancelled"));
                break;
            default:
                var why = report.State == AttemptState.Lost
                    ? $"attempt {a.Attempt} lost on worker {a.WorkerId}: {report.Error ?? "no reason given"}"
                    : report.Error ?? $"exited with code {report.ExitCode}";
                Retry(s, plan, job with { Record = withReport }, a, WriteKind.Finish, why, report.ExitCode, report.Output);
                break;
        }
    }

    /// <summary>Ends an attempt that did not succeed: the job retries after a backoff, or fails when its attempts
    /// are spent, or is cancelled when that was asked for. The assignment goes in the same transaction.</summary>
    private void Retry(SchedulerSnapshot s, Plan plan, JobInfo job, AssignmentInfo? a, WriteKind kind, string error, int? exitCode, string? output)
    {
        JobRecord next;
        if (job.Record.CancelRequested)
        {
            next = Terminal(s, job.Record, JobState.Cancelled, $"cancelled; last attempt: {error}", exitCode, output);
        }
        else if (job.Record.Attempt >= job.Record.Spec.MaxAttempts)
        {
            next = Terminal(s, job.Record, JobState.Failed, Bound(error), exitCode, output);
        }
        else
        {
            var attempt = job.Record.Attempt + 1;
            next = job.Record with
            {
                State = JobState.Pending,
                Attempt = attempt,
                WorkerId = null,
                AssignedAt = null,
                StartedAt = null,
                NotBefore = s.Now + _options.BackoffBefore(attempt),
                ExitCode = exitCode,
                Output = output,
                Error = Bound(error),
            };
        }

        if (a is not null)
        {
            plan.Writes.Add(JobAndAssignment(kind, job, next, a, error));
            return;
        }

        // No assignment in this pass's view: conditioned on its absence in the store, so an assignments cache that
        // lags behind cannot make a second attempt start while the first one runs.
        var bytes = ContractJson.Serialize(next);
        var missing = job.Record.WorkerId is { } worker ? StoreLayout.Assignment(worker, job.Record.Id, job.Record.Attempt) : null;
        plan.Writes.Add(new(kind, job.Record.Id, error, 1, bytes.Length, tx =>
        {
            if (missing is not null)
            {
                tx.RequireAbsent(missing);
            }

            tx.Update(job.Key, bytes, job.Version);
        })
        {
            Conditions = missing is null ? 0 : 1,
        });
    }

    private static JobRecord Terminal(SchedulerSnapshot s, JobRecord job, JobState state, string? error, int? exitCode, string? output) =>
        job with
        {
            State = state,
            FinishedAt = s.Now,
            Error = error is null ? null : Bound(error),
            ExitCode = exitCode,
            Output = output,
            NotBefore = null,
        };

    private static PlannedWrite JobAndAssignment(WriteKind kind, JobInfo job, JobRecord next, AssignmentInfo a, string detail)
    {
        var bytes = ContractJson.Serialize(next);
        return new(kind, job.Record.Id, detail, 2, bytes.Length, tx => tx.Update(job.Key, bytes, job.Version).Delete(a.Key, a.Version));
    }

    private static string Bound(string error) => error.Length <= Limits.MaxErrorLength ? error : error[..Limits.MaxErrorLength];

    /// <summary>A job recorded as Assigned whose assignment is missing (deleted by hand, or a torn history) is
    /// returned to Pending once it has been missing for the start timeout.</summary>
    private void ReconcileAssignedJobsWithoutAssignment(SchedulerSnapshot s, Plan plan, HashSet<string> active, HashSet<string> touched)
    {
        foreach (var (jobId, since) in s.MissingAssignmentSince)
        {
            if (active.Contains(jobId) || touched.Contains(jobId) || !s.Jobs.TryGetValue(jobId, out var job))
            {
                continue;
            }

            var deadline = since + _options.StartTimeout;
            if (s.Now < deadline)
            {
                plan.DueAt(deadline);
                continue;
            }

            touched.Add(jobId);
            Retry(s, plan, job, null, WriteKind.TakeBack, $"the assignment of attempt {job.Record.Attempt} on worker {job.Record.WorkerId} is missing", null, null);
        }
    }

    private void ReconcileSuspects(SchedulerSnapshot s, Plan plan)
    {
        var overdue = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in s.Assignments)
        {
            if (a.Record is not { State: AttemptState.Running } || !s.Workers.TryGetValue(a.WorkerId, out var worker)
                || worker.Record.HeartbeatSeconds <= 0 || !worker.Record.Features.Contains(Protocol.Features.Heartbeat))
            {
                continue;
            }

            var window = TimeSpan.FromSeconds(worker.Record.HeartbeatSeconds * _options.SuspectAfterHeartbeats);
            var deadline = a.LastChanged + window;
            if (s.Now >= deadline)
            {
                overdue.TryAdd(a.WorkerId, $"attempt {a.JobId}.{a.Attempt} has not reported for {(s.Now - a.LastChanged).TotalSeconds:0} s");
            }
            else
            {
                plan.DueAt(deadline);
            }
        }

        foreach (var (workerId, reason) in overdue)
        {
            if (!s.Suspects.Contains(workerId))
            {
                var key = StoreLayout.Suspect(workerId);
                var record = ContractJson.Serialize(new SuspectRecord { Since = s.Now, Reason = reason });
                plan.Writes.Add(new(WriteKind.Suspect, null, $"{workerId} suspect: {reason}", 1, record.Length, tx => tx.Create(key, record)));
            }
        }

        foreach (var workerId in s.Suspects)
        {
            if (!overdue.ContainsKey(workerId))
            {
                var key = StoreLayout.Suspect(workerId);
                plan.Writes.Add(new(WriteKind.Suspect, null, $"{workerId} no longer suspect", 1, 0, tx => tx.Delete(key)));
            }
        }
    }

    private void RemoveExpired(SchedulerSnapshot s, Plan plan, HashSet<string> touched)
    {
        var removed = 0;
        foreach (var job in s.Jobs.Values)
        {
            if (!job.Record.State.IsTerminal() || touched.Contains(job.Record.Id) || job.Record.FinishedAt is not { } finished)
            {
                continue;
            }

            var expiry = finished + _options.Retention;
            if (s.Now < expiry)
            {
                plan.DueAt(expiry);
                continue;
            }

            if (removed++ >= MaxRemovalsPerPass)
            {
                // A backlog (e.g. after a long outage) is worked off over several passes, so no pass outlives the watchdog.
                plan.DueAt(s.Now);
                break;
            }

            // The idempotency record goes too; the executor looks it up first (the leader does not cache that tree).
            plan.Writes.Add(new(WriteKind.Remove, job.Record.Id, "retention passed", 1, 0, tx => tx.Delete(job.Key, job.Version))
            {
                IdempotencyKey = job.Record.IdempotencyKey,
            });
        }
    }
}
