using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;

namespace ControlPlane.UnitTests.Director;

/// <summary>Every reason of <c>GET /v1/jobs/{id}/explain</c>, judged from hand-made records and queue statuses.</summary>
public sealed class JobExplainerTests
{
    [Fact]
    public void A_waiting_job_names_the_dependencies_not_final_yet_and_its_time()
    {
        var job = Pending() with
        {
            State = JobState.Waiting,
            NotBefore = Now.AddMinutes(5),
            Spec = new JobSpec { Executor = "shell", DependsOn = [new JobDependency { Job = "a" }, new JobDependency { Job = "b", On = DependencyCondition.Completion }] },
        };
        var running = Pending() with { Id = "a", State = JobState.Running };
        var done = Pending() with { Id = "b", State = JobState.Failed };

        var explained = Explain(new ExplainInputs(job, 5, Now: Now, Dependencies: [running, done]));

        Assert.Equal([ExplainCodes.Dependency, ExplainCodes.RunAt], explained.Reasons.Select(r => r.Code));
        Assert.Contains("waits for job a to end (needs success); it is Running", explained.Summary, StringComparison.Ordinal);
        Assert.Contains("(in 5 min)", explained.Reasons[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_waiting_job_whose_dependency_ruled_it_out_says_it_is_skipped_and_one_with_nothing_left_is_released()
    {
        var job = Pending() with { State = JobState.Waiting, Spec = new JobSpec { Executor = "shell", DependsOn = [new JobDependency { Job = "a" }] } };

        var ruledOut = Explain(new ExplainInputs(job, 5, Now: Now, Dependencies: [Pending() with { Id = "a", State = JobState.Cancelled }]));
        var gone = Explain(new ExplainInputs(job, 5, Now: Now, Dependencies: [null]));
        var ready = Explain(new ExplainInputs(job, 5, Now: Now, Dependencies: [Pending() with { Id = "a", State = JobState.Succeeded }]));

        Assert.Equal(ExplainCodes.DependencyRulesOut, Code(ruledOut));
        Assert.Contains("ended Cancelled (needs success)", ruledOut.Summary, StringComparison.Ordinal);
        Assert.Equal(ExplainCodes.DependencyRulesOut, Code(gone));
        Assert.Equal(ExplainCodes.Releasing, Code(ready));
    }

    [Fact]
    public void A_job_of_a_workflow_that_is_staging_aborted_cancelled_or_missing_says_so_and_a_committed_one_is_judged_as_usual()
    {
        var job = Pending() with { State = JobState.Waiting, WorkflowId = "wf", Spec = new JobSpec { Executor = "shell" } };
        var staging = new Contracts.Workflows.WorkflowRecord { Id = "wf", State = Contracts.Workflows.WorkflowState.Staging, StagingUntil = Now };

        var reasons = new[]
        {
            Explain(new ExplainInputs(job, 5, Now: Now, Workflow: staging)),
            Explain(new ExplainInputs(job, 5, Now: Now, Workflow: staging with { State = Contracts.Workflows.WorkflowState.Aborted, Error = "too slow" })),
            Explain(new ExplainInputs(job, 5, Now: Now, Workflow: staging with { State = Contracts.Workflows.WorkflowState.Committed, CancelRequested = true })),
            Explain(new ExplainInputs(job, 5, Now: Now)),
        };
        var committed = Explain(new ExplainInputs(job, 5, Now: Now, Workflow: staging with { State = Contracts.Workflows.WorkflowState.Committed }));

        Assert.All(reasons, r => Assert.Equal(ExplainCodes.Workflow, Code(r)));
        Assert.Contains("still being submitted", reasons[0].Summary, StringComparison.Ordinal);
        Assert.Contains("was aborted (too slow): the leader skips this job", reasons[1].Summary, StringComparison.Ordinal);
        Assert.Contains("was cancelled", reasons[2].Summary, StringComparison.Ordinal);
        Assert.Contains("does not exist", reasons[3].Summary, StringComparison.Ordinal);
        Assert.Equal(ExplainCodes.Releasing, Code(committed));
    }

    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AdmissionOptions Limits = new() { MaxPending = 100, MaxPendingPerGroup = 10 };

    [Fact]
    public void A_pending_job_without_a_leader_says_nothing_is_placed()
    {
        var explained = Explain(new ExplainInputs(Pending(), 5, Now: Now));

        Assert.Equal(ExplainCodes.NoLeader, Code(explained));
        Assert.Null(explained.JudgedAt);
        Assert.Equal(explained.Reasons[0].Message, explained.Summary);
    }

    [Fact]
    public void A_pending_job_in_backoff_names_when_it_ends_before_anything_else()
    {
        var job = Pending() with { Attempt = 2, NotBefore = Now.AddSeconds(30), Error = "exited with code 1" };

        var explained = Explain(new ExplainInputs(job, 5, Status: Status(), Now: Now));

        Assert.Equal(ExplainCodes.Backoff, Code(explained));
        Assert.Contains("2026-05-01 12:00:30Z (in 30 s)", explained.Summary, StringComparison.Ordinal);
        Assert.Contains("exited with code 1", explained.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 3, 0, 0, 0, 0, 0, ExplainCodes.NoExecutor, "no worker has the executor 'shell' (3 of 3 workers lack it")]
    [InlineData(3, 1, 2, 0, 0, 0, 0, ExplainCodes.NoFeature, "timeout (missing on 2) of 2 workers with the executor")]
    [InlineData(3, 0, 0, 3, 0, 0, 0, ExplainCodes.NoLabel, "gpu=1 (missing on 3) of 3 workers with executor 'shell'")]
    [InlineData(3, 1, 0, 0, 1, 1, 0, ExplainCodes.NotReady, "the 2 workers that could run it take no new work: 1 suspect, 1 draining")]
    [InlineData(3, 0, 0, 0, 1, 0, 2, ExplainCodes.Full, "every capable worker is full: 2 workers, at most 0 free slots on any (it needs 1) (1 suspect besides)")]
    [InlineData(0, 0, 0, 0, 0, 0, 0, ExplainCodes.NoWorkers, "no worker is registered (4 jobs like it wait)")]
    public void A_pending_job_of_a_class_the_leader_set_aside_gets_the_first_step_every_worker_failed(
        int workers, int noExecutor, int noFeatures, int noLabels, int suspect, int draining, int full, string code, string words)
    {
        var unplaced = new UnplacedClass
        {
            Executor = "shell", Constraints = new Dictionary<string, string> { ["gpu"] = "1" }, Jobs = 4, Workers = workers,
            WithoutExecutor = noExecutor, WithoutFeatures = noFeatures, MissingFeatures = noFeatures > 0 ? new Dictionary<string, int> { ["timeout"] = noFeatures } : null,
            WithoutLabels = noLabels, MissingLabels = noLabels > 0 ? new Dictionary<string, int> { ["gpu=1"] = noLabels } : null,
            Suspect = suspect, Draining = draining, Full = full,
        };
        var job = Pending(new JobSpec { Executor = "shell", Command = ["/bin/true"], Constraints = new Dictionary<string, string> { ["gpu"] = "1" } });

        var explained = Explain(new ExplainInputs(job, 5, Status: Status() with { Unplaced = [unplaced] }, Now: Now));

        Assert.Equal(code, Code(explained));
        Assert.Contains(words, explained.Summary, StringComparison.Ordinal);
        Assert.Equal(Now.AddSeconds(-1), explained.JudgedAt);
    }

    [Fact]
    public void A_job_of_another_class_is_queued_or_not_listed_when_the_status_left_classes_out()
    {
        var status = Status() with { Unplaced = [new UnplacedClass { Executor = "other", Workers = 1, WithoutExecutor = 1, Jobs = 1 }] };

        Assert.Equal(ExplainCodes.Queued, Code(Explain(new ExplainInputs(Pending(), 5, Status: status, Now: Now))));
        Assert.Equal(ExplainCodes.NotListed, Code(Explain(new ExplainInputs(Pending(), 5, Status: status with { UnplacedOmitted = 3 }, Now: Now))));
    }

    [Fact]
    public void A_pending_job_behind_another_of_its_fifo_group_names_that_job_and_where_it_runs()
    {
        var head = Pending(Group("nightly")) with { State = JobState.Assigned, WorkerId = "w-1" };
        var job = Pending(Group("nightly"));
        var status = Status() with { GroupHeads = new Dictionary<string, GroupHead> { ["nightly"] = new() { Job = head.Id, Out = true, Pending = 2 } } };

        var explained = Explain(new ExplainInputs(job, 5, Status: status, GroupHead: head, Now: Now));

        Assert.Equal(ExplainCodes.FifoGroup, Code(explained));
        Assert.Contains($"behind job {head.Id}, Assigned on worker w-1", explained.Summary, StringComparison.Ordinal);

        // The head itself is judged by its class.
        Assert.Equal(ExplainCodes.Queued, Code(Explain(new ExplainInputs(head with { State = JobState.Pending }, 5, Status: status, Now: Now))));
    }

    [Fact]
    public void Admission_control_is_a_note_after_the_reason_never_the_reason()
    {
        var status = Status() with { Pending = 100 };

        var explained = Explain(new ExplainInputs(Pending(), 5, Status: status, Now: Now));

        Assert.Equal([ExplainCodes.Queued, ExplainCodes.Admission], explained.Reasons.Select(r => r.Code));
        Assert.Contains("Scheduler:MaxPending is 100", explained.Reasons[1].Message, StringComparison.Ordinal);
        var inGroup = Explain(new ExplainInputs(Pending(Group("g")), 5, Status: Status() with { Groups = new Dictionary<string, int> { ["g"] = 10 } }, Now: Now));
        Assert.Contains("Scheduler:MaxPendingPerGroup is 10", inGroup.Reasons[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_running_job_says_where_and_since_when_and_what_is_wrong_with_its_worker()
    {
        var started = Now.AddMinutes(-3);
        var job = Pending() with { State = JobState.Assigned, WorkerId = "w-1", AssignedAt = started.AddSeconds(-1) };
        var assignment = new AssignmentRecord { JobId = job.Id, Attempt = 1, State = AttemptState.Running, StartedAt = started };
        var suspect = new SuspectRecord { Since = Now.AddSeconds(-10), Reason = "attempt x.1 has not reported for 16 s" };

        var explained = Explain(new ExplainInputs(job, 5, assignment, new WorkerRecord { Id = "w-1" }, suspect, DrainRequested: true, Now: Now));

        Assert.Equal(JobState.Running, explained.State);
        Assert.Equal(started, explained.Since);
        Assert.Equal("w-1", explained.WorkerId);
        Assert.Equal([ExplainCodes.Running, ExplainCodes.WorkerSuspect, ExplainCodes.WorkerDraining], explained.Reasons.Select(r => r.Code));
        Assert.StartsWith("running on worker w-1 since 2026-05-01 11:57:00Z", explained.Summary, StringComparison.Ordinal);
        Assert.Contains("has not reported for 16 s", explained.Reasons[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_assigned_job_whose_assignment_or_worker_is_gone_says_so()
    {
        var job = Pending() with { State = JobState.Assigned, WorkerId = "w-1" };

        var explained = Explain(new ExplainInputs(job, 5, Now: Now));

        Assert.Equal([ExplainCodes.AssignmentMissing, ExplainCodes.WorkerGone], explained.Reasons.Select(r => r.Code));
        Assert.Equal(ExplainCodes.Assigned, Code(Explain(new ExplainInputs(job, 5, new AssignmentRecord { State = AttemptState.Assigned }, new WorkerRecord(), Now: Now))));
    }

    [Fact]
    public void A_pending_job_held_by_its_full_concurrency_key_says_how_full_and_a_job_with_a_higher_limit_is_judged_by_its_class()
    {
        var keyed = new JobSpec { Executor = "shell", Command = ["/bin/true"], Concurrency = new JobConcurrency { Key = "payments-api", Limit = 3 } };
        var status = Status() with
        {
            ConcurrencyKeys = new Dictionary<string, ConcurrencyKeyStatus> { ["payments-api"] = new() { Out = 3, Limit = 3, Waiting = 27 } },
        };

        var held = Explain(new ExplainInputs(Pending(keyed), 5, Status: status, Now: Now));
        var lenient = Explain(new ExplainInputs(Pending(keyed with { Concurrency = new JobConcurrency { Key = "payments-api", Limit = 5 } }), 5, Status: status, Now: Now));
        var unkeyed = Explain(new ExplainInputs(Pending(), 5, Status: status, Now: Now));

        Assert.Equal(ExplainCodes.ConcurrencyLimit, Code(held));
        Assert.Equal("concurrency key 'payments-api' is full: 3 of 3 running (jobs with the key are out on workers at most 3 at once; 27 jobs of it wait)", held.Summary);
        Assert.Equal(status.At, held.JudgedAt);
        Assert.Equal(ExplainCodes.Queued, Code(lenient));
        Assert.Equal(ExplainCodes.Queued, Code(unkeyed));
    }

    [Fact]
    public void A_finished_job_says_how_it_ended()
    {
        var job = Pending() with { State = JobState.Failed, Attempt = 3, FinishedAt = Now, Error = "exited with code 2" };

        var explained = Explain(new ExplainInputs(job, 5, Now: Now));

        Assert.Equal(ExplainCodes.Finished, Code(explained));
        Assert.Equal("finished Failed at 2026-05-01 12:00:00Z after 3 attempts: exited with code 2", explained.Summary);
    }

    private static JobExplanation Explain(ExplainInputs input) => JobExplainer.Explain(input, Limits);

    private static string Code(JobExplanation explanation) => explanation.Reasons[0].Code;

    private static JobSpec Group(string group) => new() { Executor = "shell", Command = ["/bin/true"], Group = group };

    private static JobRecord Pending(JobSpec? spec = null) => new()
    {
        Id = JobIds.New(),
        Spec = spec ?? new JobSpec { Executor = "shell", Command = ["/bin/true"] },
        CreatedAt = Now.AddMinutes(-1),
    };

    private static QueueStatusRecord Status() => new() { Epoch = 7, At = Now.AddSeconds(-1), Pending = 4 };
}
