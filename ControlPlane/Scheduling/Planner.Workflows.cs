using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Director.Scheduling;

/// <content>Workflows: the gate on their jobs, the abort of a submission that did not complete, and removal.</content>
internal sealed partial class Planner
{
    /// <summary>How far past its <c>stagingUntil</c> (the accepting director's clock) the leader waits before it aborts
    /// a staging workflow: room for the two clocks to differ.</summary>
    internal static readonly TimeSpan StagingClockAllowance = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The workflow's say over one of its Waiting jobs: true when the job may be judged like any other (its workflow is
    /// committed and the leader has seen every job of it); false when it was held (staging, or its jobs not all seen
    /// yet: judged again when that changes, <see cref="LeaderState"/>) or written (Skipped because the workflow was
    /// aborted, Cancelled because it was cancelled). O(1).
    /// </summary>
    private bool JudgeWorkflowGate(Pass p, JobInfo job)
    {
        var record = job.Record;
        var workflowId = record.WorkflowId!;
        var gate = p.State.Gate(workflowId);
        if (gate == WorkflowGate.Closed)
        {
            return false;
        }

        var workflow = p.State.Workflows[workflowId].Record;
        if (gate == WorkflowGate.Aborted)
        {
            var why = $"skipped: workflow {workflowId} was aborted ({workflow.Error ?? "no reason recorded"})";
            p.Touched.Add(record.Id);
            p.Released++;
            p.Plan.Add(Writes.Job(WriteKind.Skip, job, JobTransitions.Skipped(record, why, p.Now), why, null));
            return false;
        }

        if (workflow.CancelRequested)
        {
            // The API cancels a cancelled workflow's jobs itself; this finishes the Waiting ones should it stop half-way.
            // Counted against the per-pass cap like releases: a cancelled 10,000-job workflow is not one pass.
            p.Touched.Add(record.Id);
            p.Released++;
            p.Plan.Add(Writes.Job(WriteKind.Cancel, job, JobTransitions.CancelledWhilePending(record, p.Now), $"workflow {workflowId} cancelled", null));
            return false;
        }

        return true;
    }

    /// <summary>
    /// Judges changed workflows: a staging one whose director did not commit in time (its <c>stagingUntil</c> plus
    /// <see cref="StagingClockAllowance"/>) is aborted, which ends the jobs written so far Skipped; a committed or
    /// aborted one whose jobs are all gone (removed after their retention) is removed once the retention has passed
    /// since it was committed or aborted too. Cost: O(1) per changed workflow.
    /// </summary>
    private void ReconcileWorkflows(Pass p, List<string> ids)
    {
        var s = p.State;
        foreach (var id in ids)
        {
            var item = new Item(ItemKind.Workflow, id);
            s.Deadlines.Clear(item);
            if (!s.Workflows.TryGetValue(id, out var workflow))
            {
                continue;
            }

            var record = workflow.Record;
            if (record.State == WorkflowState.Staging)
            {
                var deadline = (record.StagingUntil ?? record.CreatedAt) + StagingClockAllowance;
                if (p.Now < deadline)
                {
                    s.Deadlines.Set(item, deadline);
                    continue;
                }

                var why = $"its submission was not committed by {record.StagingUntil:O} (the accepting director stopped or was too slow); submit it again";
                p.Plan.Add(Writes.Workflow(workflow, WorkflowTransitions.Aborted(record, why, p.Now), $"workflow {id}: abort staging"));
                continue;
            }

            // Its jobs were all written before its last change: only once the jobs watch has reached that change does
            // "no jobs" mean they are gone rather than not delivered yet.
            if (s.MemberCount(id) > 0 || !s.Covers(workflow))
            {
                continue;
            }

            var expiry = (record.CommittedAt ?? record.AbortedAt ?? record.CreatedAt) + _options.Retention;
            if (p.Now < expiry)
            {
                s.Deadlines.Set(item, expiry);
                continue;
            }

            p.Plan.Add(Writes.RemoveWorkflow(workflow));
        }
    }
}
