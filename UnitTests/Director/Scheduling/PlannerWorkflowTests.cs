using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>Workflows as the leader judges them (issue 19): the gate that holds their jobs until the commit (and until
/// the jobs watch has caught up with it), the abort of a submission that stopped half-way, cancellation, removal.</summary>
public sealed class PlannerWorkflowTests
{
    private readonly PlannerFixture _f = new();

    private WorkflowRecord Workflow(WorkflowState state, int nodes = 2, Func<WorkflowRecord, WorkflowRecord>? edit = null)
    {
        var record = new WorkflowRecord
        {
            Id = "ab" + new string('0', 28) + "cd",
            State = state,
            Nodes = nodes,
            CreatedAt = _f.Now,
            StagingUntil = state == WorkflowState.Staging ? _f.Now.AddMinutes(2) : null,
            CommittedAt = state == WorkflowState.Committed ? _f.Now : null,
            AbortedAt = state == WorkflowState.Aborted ? _f.Now : null,
            Error = state == WorkflowState.Aborted ? "its director stopped" : null,
        };
        return edit?.Invoke(record) ?? record;
    }

    private JobInfo Member(WorkflowRecord workflow, string nodeRef, params JobInfo[] after) =>
        _f.Job(
            new JobSpec { Executor = "sleep", DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Job = a.Record.Id })] },
            JobState.Waiting,
            edit: r => r with { WorkflowId = workflow.Id, WorkflowRef = nodeRef });

    [Fact]
    public void A_staging_workflows_jobs_are_never_released_even_without_dependencies()
    {
        _f.Worker("w1", slots: 8);
        var workflow = Workflow(WorkflowState.Staging);
        _f.Workflow(workflow);
        var root = Member(workflow, "root");

        var plan = _f.Plan();

        Assert.DoesNotContain(plan.Writes, w => w.JobId == root.Record.Id);
    }

    [Fact]
    public void A_commit_opens_the_gate_only_once_the_jobs_watch_has_reached_it()
    {
        var workflow = Workflow(WorkflowState.Committed);
        var root = Member(workflow, "root");
        _f.Workflow(workflow);
        _f.JobsRevision = _f.Revision - 1; // the jobs watch has not delivered up to the commit: a job may be missing

        var state = _f.Build();
        var planner = new Planner(_f.Options);
        var held = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.DoesNotContain(held.Writes, w => w.JobId == root.Record.Id);

        state.AdvanceJobsRevision(_f.Revision);
        var released = planner.PlanPass(state, _f.Epoch, _f.Now);
        var write = Assert.Single(released.Writes, w => w.JobId == root.Record.Id);
        Assert.Equal(WriteKind.Release, write.Kind);
    }

    [Fact]
    public void In_a_committed_workflow_a_root_is_released_and_its_dependent_waits_for_it()
    {
        var workflow = Workflow(WorkflowState.Committed);
        var root = Member(workflow, "root");
        var leaf = Member(workflow, "leaf", root);
        _f.Workflow(workflow);

        var plan = _f.Plan();

        Assert.Equal(WriteKind.Release, Assert.Single(plan.Writes, w => w.JobId == root.Record.Id).Kind);
        Assert.DoesNotContain(plan.Writes, w => w.JobId == leaf.Record.Id);
    }

    [Fact]
    public void An_aborted_workflows_jobs_end_Skipped_naming_the_workflow_and_why()
    {
        var workflow = Workflow(WorkflowState.Aborted);
        var root = Member(workflow, "root");
        _f.Workflow(workflow);

        var plan = _f.Plan();

        Assert.Equal(WriteKind.Skip, Assert.Single(plan.Writes, w => w.JobId == root.Record.Id).Kind);
        var skipped = JobWritten(plan, root.Record.Id);
        Assert.Equal(JobState.Skipped, skipped.State);
        Assert.Contains($"workflow {workflow.Id} was aborted (its director stopped)", skipped.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_staging_workflow_is_aborted_once_its_staging_time_and_the_clock_allowance_have_passed()
    {
        var workflow = Workflow(WorkflowState.Staging);
        var info = _f.Workflow(workflow);
        Member(workflow, "root");

        _f.Now = workflow.StagingUntil!.Value + Planner.StagingClockAllowance - TimeSpan.FromSeconds(1);
        var early = _f.Plan();
        Assert.DoesNotContain(early.Writes, w => w.Kind == WriteKind.Workflow);
        Assert.Equal(workflow.StagingUntil + Planner.StagingClockAllowance, early.NextDue);

        _f.Now += TimeSpan.FromSeconds(1);
        var plan = _f.Plan();
        var write = Assert.Single(plan.Writes, w => w.Kind == WriteKind.Workflow);
        var operation = Assert.Single(write.Operations);
        Assert.Equal((OperationKind.Update, info.Key, (long?)info.Version), (operation.Kind, operation.Key, operation.ExpectedVersion));
        var aborted = ContractJson.Deserialize<WorkflowRecord>(operation.Value.Span);
        Assert.Equal(WorkflowState.Aborted, aborted.State);
        Assert.Contains("not committed", aborted.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancelled_workflows_waiting_jobs_are_cancelled_by_the_leader()
    {
        var workflow = Workflow(WorkflowState.Committed, edit: r => r with { CancelRequested = true });
        var root = Member(workflow, "root");
        _f.Workflow(workflow);

        var plan = _f.Plan();

        Assert.Equal(WriteKind.Cancel, Assert.Single(plan.Writes, w => w.JobId == root.Record.Id).Kind);
        Assert.Equal(JobState.Cancelled, JobWritten(plan, root.Record.Id).State);
    }

    [Fact]
    public void A_workflow_is_removed_once_its_jobs_are_gone_and_its_retention_has_passed_and_not_before()
    {
        var workflow = Workflow(WorkflowState.Committed);
        var info = _f.Workflow(workflow);
        var member = Member(workflow, "root");

        _f.Now = workflow.CommittedAt!.Value + _f.Options.Retention + TimeSpan.FromSeconds(1);
        var withJob = _f.Plan();
        Assert.DoesNotContain(withJob.Writes, w => w.Kind == WriteKind.Workflow);

        var state = _f.Build();
        state.Apply(new StoreChange(ChangeKind.Delete, member.Key, null, _f.Revision + 1), _f.Now);
        state.AdvanceJobsRevision(_f.Revision + 1);
        var plan = new Planner(_f.Options).PlanPass(state, _f.Epoch, _f.Now);

        var write = Assert.Single(plan.Writes, w => w.Kind == WriteKind.Workflow);
        Assert.Equal((OperationKind.Delete, info.Key), (write.Operations[0].Kind, write.Operations[0].Key));
    }
}
