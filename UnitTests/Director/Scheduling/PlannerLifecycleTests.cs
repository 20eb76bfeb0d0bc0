using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

public sealed class PlannerLifecycleTests
{
    private readonly PlannerFixture _f = new();

    [Fact]
    public void A_success_report_finishes_the_job_and_removes_the_assignment_in_one_write()
    {
        var worker = _f.Worker("w1");
        var (job, assignment) = _f.Running(worker, state: AttemptState.Succeeded, edit: r => r with { ExitCode = 0, Output = "hi" });

        var plan = _f.Plan();

        var write = Assert.Single(plan.Writes);
        Assert.Equal(WriteKind.Finish, write.Kind);
        var written = JobWritten(plan, job.Record.Id);
        Assert.Equal((JobState.Succeeded, 0, "hi"), (written.State, written.ExitCode, written.Output));
        Assert.Contains(Operations(plan), o => o.Kind == OperationKind.Delete && o.Key == assignment.Key && o.ExpectedVersion == assignment.Version);
    }

    [Fact]
    public void A_failed_attempt_retries_after_a_backoff_until_attempts_are_spent()
    {
        var worker = _f.Worker("w1");
        var (retried, _) = _f.Running(worker, new JobSpec { Executor = "sleep", MaxAttempts = 3 }, AttemptState.Failed, attempt: 1, edit: r => r with { ExitCode = 3 });
        var (spent, _) = _f.Running(worker, new JobSpec { Executor = "sleep", MaxAttempts = 2 }, AttemptState.Failed, attempt: 2, edit: r => r with { ExitCode = 3 });

        var plan = _f.Plan();

        var again = JobWritten(plan, retried.Record.Id);
        Assert.Equal((JobState.Pending, 2, 3), (again.State, again.Attempt, again.ExitCode));
        Assert.Equal(T0 + _f.Options.RetryBackoff, again.NotBefore);
        var failed = JobWritten(plan, spent.Record.Id);
        Assert.Equal((JobState.Failed, 2), (failed.State, failed.Attempt));
        Assert.NotNull(failed.FinishedAt);
    }

    [Fact]
    public void When_a_worker_leaves_its_attempts_come_back_with_the_next_attempt_number()
    {
        var worker = _f.Worker("w1");
        var (job, assignment) = _f.Running(worker);
        _f.RemoveWorker("w1");

        var plan = _f.Plan();

        var written = JobWritten(plan, job.Record.Id);
        Assert.Equal((JobState.Pending, 2, (string?)null), (written.State, written.Attempt, written.WorkerId));
        Assert.Contains("left", written.Error, StringComparison.Ordinal);
        Assert.Contains(Operations(plan), o => o.Kind == OperationKind.Delete && o.Key == assignment.Key);
    }

    [Fact]
    public void An_attempt_lost_through_no_fault_of_the_job_is_placed_again_at_once_and_costs_no_attempt()
    {
        var worker = _f.Worker("w1");
        var spec = new JobSpec { Executor = "sleep", MaxAttempts = 1 };
        var (lostWithWorker, _) = _f.Running(worker, spec);
        var (reportedLost, _) = _f.Running(_f.Worker("w2"), spec, AttemptState.Lost, edit: r => r with { Error = "fenced" });
        _f.RemoveWorker("w1");

        var plan = _f.Plan();

        foreach (var job in new[] { lostWithWorker, reportedLost })
        {
            var written = JobWritten(plan, job.Record.Id);
            Assert.Equal((JobState.Pending, 2, 1, (DateTimeOffset?)null), (written.State, written.Attempt, written.Interruptions, written.NotBefore));
        }
    }

    [Fact]
    public void The_jobs_own_failures_count_against_its_attempts_whatever_it_lost_before()
    {
        var worker = _f.Worker("w1");
        var spec = new JobSpec { Executor = "sleep", MaxAttempts = 2 };
        // Attempt 3, one of the earlier two lost with its worker: the job has used two of its own (this one included).
        var (job, _) = _f.Running(worker, spec, AttemptState.Failed, attempt: 3, edit: r => r with { ExitCode = 1 });
        _f.Replace(job, job.Record with { Interruptions = 1 });
        var (again, _) = _f.Running(worker, new JobSpec { Executor = "sleep", MaxAttempts = 3 }, AttemptState.Failed, attempt: 3, edit: r => r with { ExitCode = 1 });
        _f.Replace(again, again.Record with { Interruptions = 1 });

        var plan = _f.Plan();

        Assert.Equal(JobState.Failed, JobWritten(plan, job.Record.Id).State);
        var retried = JobWritten(plan, again.Record.Id);
        Assert.Equal((JobState.Pending, 4, 1), (retried.State, retried.Attempt, retried.Interruptions));
        Assert.Equal(T0 + _f.Options.BackoffBefore(3), retried.NotBefore); // backoff by the job's own failures
    }

    [Fact]
    public void Losses_past_the_interruption_cap_count_as_the_jobs_own()
    {
        _f.Options.MaxInterruptions = 2;
        var worker = _f.Worker("w1");
        var (job, _) = _f.Running(worker, new JobSpec { Executor = "sleep", MaxAttempts = 1 }, AttemptState.Lost, attempt: 3);
        _f.Replace(job, job.Record with { Interruptions = 2 });

        var written = JobWritten(_f.Plan(), job.Record.Id);

        Assert.Equal((JobState.Failed, 2), (written.State, written.Interruptions));
    }

    [Fact]
    public void An_attempt_made_to_an_earlier_session_of_the_worker_is_taken_back()
    {
        var worker = _f.Worker("w1", session: 7);
        var (job, _) = _f.Running(worker, edit: r => r with { WorkerSession = 6 });

        var written = JobWritten(_f.Plan(), job.Record.Id);

        Assert.Equal(JobState.Pending, written.State);
        Assert.Contains("restarted", written.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_attempt_never_started_is_taken_back_after_the_start_timeout()
    {
        // An agent that advertises no heartbeat interval: only the start timeout applies (FailureDetectionTests covers
        // the sooner suspicion of one that beats).
        var worker = _f.Worker("w1", features: [Protocol.Features.Cancel], heartbeatSeconds: 0);
        var (job, _) = _f.Running(worker, state: AttemptState.Assigned);

        var early = _f.Plan();
        Assert.Empty(early.Writes);
        Assert.Equal(T0 + _f.Options.StartTimeout, early.NextDue);

        _f.Now = T0 + _f.Options.StartTimeout;
        Assert.Equal(JobState.Pending, JobWritten(_f.Plan(), job.Record.Id).State);
    }

    [Fact]
    public void A_silent_attempt_is_ended_at_its_timeout_plus_grace()
    {
        var worker = _f.Worker("w1");
        var (job, _) = _f.Running(worker, new JobSpec { Executor = "sleep", TimeoutSeconds = 10, MaxAttempts = 1 });

        _f.Now = T0 + TimeSpan.FromSeconds(10) + _f.Options.TimeoutGrace - TimeSpan.FromMilliseconds(1);
        Assert.DoesNotContain(_f.Plan().Writes, w => w.Kind == WriteKind.TakeBack);

        _f.Now += TimeSpan.FromMilliseconds(1);
        var written = JobWritten(_f.Plan(), job.Record.Id);
        Assert.Equal(JobState.Failed, written.State);
        Assert.Contains("timed out", written.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_reaches_a_running_assignment_and_ends_one_not_started()
    {
        var worker = _f.Worker("w1");
        var (running, runningAssignment) = _f.Running(worker);
        var (waiting, _) = _f.Running(worker, state: AttemptState.Assigned);
        _f.Replace(running, running.Record with { CancelRequested = true });
        _f.Replace(waiting, waiting.Record with { CancelRequested = true });

        var plan = _f.Plan();

        var flagged = Operations(plan).Single(o => o.Key == runningAssignment.Key);
        Assert.Equal(OperationKind.Update, flagged.Kind);
        Assert.True(ContractJson.Deserialize<AssignmentRecord>(flagged.Value.Span).CancelRequested);
        Assert.DoesNotContain(Operations(plan), o => o.Key == running.Key);
        Assert.Equal(JobState.Cancelled, JobWritten(plan, waiting.Record.Id).State);
    }

    [Fact]
    public void An_assignment_whose_job_moved_on_is_deleted()
    {
        var worker = _f.Worker("w1");
        var (job, assignment) = _f.Running(worker);
        _f.Replace(job, job.Record with { Attempt = 2, State = JobState.Pending, WorkerId = null });

        var plan = _f.Plan();

        var orphan = Assert.Single(plan.Writes, w => w.Kind == WriteKind.Orphan);
        var tx = new Transaction();
        orphan.Apply(tx);
        var delete = Assert.Single(tx.Operations);
        Assert.Equal((OperationKind.Delete, assignment.Key), (delete.Kind, delete.Key));
        // Conditioned on the job as seen: a jobs cache behind the assignments cache cannot withdraw a live attempt.
        var condition = Assert.Single(tx.Conditions);
        Assert.Equal((ConditionKind.VersionEquals, job.Key, job.Version + 1), (condition.Kind, condition.Key, condition.Value));
        Assert.DoesNotContain(plan.Writes, w => w.Kind == WriteKind.Place && w.JobId == job.Record.Id);
    }

    [Fact]
    public void A_withdrawn_stale_attempt_does_not_hide_the_current_one_or_its_slots()
    {
        var worker = _f.Worker("w1", slots: 1);
        var (job, _) = _f.Running(worker, attempt: 2);
        // A left-over assignment of attempt 1 of the same job, e.g. from a pass that saw an older job record.
        var stale = _f.Running(worker, attempt: 1).Assignment with { JobId = job.Record.Id, Key = StoreLayout.Assignment("w1", job.Record.Id, 1) };
        _f.ReplaceAssignments(a => a.JobId == job.Record.Id || a.Key == stale.Key ? a : null, stale);
        _f.Job(); // waits for the single slot

        var plan = _f.Plan();

        Assert.Contains(plan.Writes, w => w.Kind == WriteKind.Orphan && w.Detail == stale.Key);
        Assert.Empty(AssignmentsCreated(plan)); // the current attempt still holds the only slot
    }

    [Fact]
    public void Finished_jobs_are_removed_after_the_retention_period()
    {
        var finished = _f.Job(state: JobState.Succeeded, edit: r => r with { FinishedAt = T0, IdempotencyKey = "k1" });

        Assert.DoesNotContain(_f.Plan().Writes, w => w.Kind == WriteKind.Remove);

        _f.Now = T0 + _f.Options.Retention;
        var remove = Assert.Single(_f.Plan().Writes, w => w.Kind == WriteKind.Remove);
        Assert.Equal("k1", remove.IdempotencyKey);
        Assert.Equal(finished.Record.Id, remove.JobId);
    }

    [Fact]
    public void A_worker_whose_running_attempts_stop_reporting_becomes_suspect_and_recovers()
    {
        var worker = _f.Worker("w1", heartbeatSeconds: 5);
        _f.Running(worker, lastChanged: T0);
        _f.Now = T0 + TimeSpan.FromSeconds(15);

        var marked = Operations(_f.Plan()).Single(o => o.Key == StoreLayout.Suspect("w1"));
        Assert.Equal(OperationKind.Create, marked.Kind);

        var recovered = new PlannerFixture();
        var w = recovered.Worker("w1", suspect: true);
        recovered.Running(w);
        var cleared = Operations(recovered.Plan()).Single(o => o.Key == StoreLayout.Suspect("w1"));
        Assert.Equal(OperationKind.Delete, cleared.Kind);
    }

    [Fact]
    public void A_worker_beat_that_lists_an_attempt_is_that_attempts_report()
    {
        var worker = _f.Worker("w1", features: [Protocol.Features.WorkerHeartbeat], heartbeatSeconds: 5);
        var (_, listed) = _f.Running(worker, lastChanged: T0);
        var (silentJob, _) = _f.Running(worker, lastChanged: T0);
        var (_, otherSession) = _f.Running(worker, lastChanged: T0, edit: r => r with { WorkerSession = worker.Session + 1 });
        var state = _f.Build();

        // At T0 + 10 s the worker's beat lists the first attempt, and (wrongly) one made to another incarnation.
        var beat = worker.Record with { Running = [StoreKeys.Name(listed.Key), StoreKeys.Name(otherSession.Key)] };
        var key = StoreLayout.Worker("w1");
        state.Apply(new StoreChange(ChangeKind.Put, key, new StoreItem(key, ContractJson.Serialize(beat), 1, 900, 2, worker.Session), 900), T0 + TimeSpan.FromSeconds(10));
        Assert.Equal(T0 + TimeSpan.FromSeconds(10), state.Assignments[listed.Key].LastChanged);
        Assert.Equal(T0, state.Assignments[otherSession.Key].LastChanged);

        var plan = new Planner(_f.Options).PlanPass(state, _f.Epoch, T0 + TimeSpan.FromSeconds(15));

        // The silent attempt (and the other incarnation's) make the worker suspect; the listed one is not overdue.
        var marked = Assert.Single(plan.Writes, w => w.Kind == WriteKind.Suspect);
        Assert.DoesNotContain(listed.JobId, marked.Detail, StringComparison.Ordinal);
        Assert.True(state.Assignments.Values.Single(a => a.JobId == silentJob.Record.Id).LastChanged == T0);
    }

    [Fact]
    public void A_job_recorded_as_assigned_without_its_assignment_is_requeued_after_the_start_timeout()
    {
        _f.Worker("w1");
        var job = _f.Job(state: JobState.Assigned, workerId: "w1");
        _f.MissingSince(job.Record.Id, T0);

        Assert.DoesNotContain(_f.Plan().Writes, w => w.JobId == job.Record.Id);

        _f.Now = T0 + _f.Options.StartTimeout;
        var plan = _f.Plan();
        Assert.Equal(JobState.Pending, JobWritten(plan, job.Record.Id).State);
        // Only if the assignment is really absent: an assignments cache that lags must not start a second attempt.
        var tx = new Transaction();
        plan.Writes.Single(w => w.JobId == job.Record.Id).Apply(tx);
        var condition = Assert.Single(tx.Conditions);
        Assert.Equal((ConditionKind.Absent, StoreLayout.Assignment("w1", job.Record.Id, 1)), (condition.Kind, condition.Key));
    }

    [Fact]
    public void A_cancel_flag_write_is_sized_by_its_real_record_so_batches_stay_within_limits()
    {
        var worker = _f.Worker("w1");
        var big = new string('x', 20_000);
        var (job, _) = _f.Running(worker, new JobSpec { Executor = "shell", Command = ["/bin/echo", big] },
            edit: r => r with { Command = ["/bin/echo", big] });
        _f.Replace(job, job.Record with { CancelRequested = true });

        var write = Assert.Single(_f.Plan().Writes, w => w.Kind == WriteKind.Cancel);

        Assert.True(write.Bytes > big.Length, $"estimated {write.Bytes} bytes for a record holding {big.Length}");
    }

    [Fact]
    public void Fields_a_newer_writer_added_survive_the_leaders_rewrite()
    {
        var record = ContractJson.Deserialize<JobRecord>("""{"id":"x","spec":{"executor":"echo"},"state":"Pending","attempt":1,"futureField":{"a":1}}"""u8);

        var rewritten = System.Text.Encoding.UTF8.GetString(ContractJson.Serialize(record with { State = JobState.Assigned }));

        Assert.Contains("\"futureField\":{\"a\":1}", rewritten, StringComparison.Ordinal);
    }
}
