using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Scheduling;

/// <summary>A workflow record as the leader sees it.</summary>
/// <param name="Key">Store key.</param>
/// <param name="Record">The parsed record.</param>
/// <param name="Version">Version for conditional writes.</param>
/// <param name="ModRevision">The revision of its last change: for a committed workflow, its commit.</param>
internal sealed record WorkflowInfo(string Key, WorkflowRecord Record, long Version, long ModRevision);

/// <summary>Whether a job of a workflow may be judged like any other Waiting job.</summary>
internal enum WorkflowGate
{
    /// <summary>Committed, and every job written before the commit is in the leader's state.</summary>
    Open,

    /// <summary>Not yet: staging, or committed but the jobs watch has not caught up with the commit, or the workflow
    /// record has not been seen yet (the workflows and jobs watches deliver independently).</summary>
    Closed,

    /// <summary>Aborted: its jobs end Skipped.</summary>
    Aborted,
}

/// <content>Workflows: their records, the jobs of each, and the gate that holds those jobs until the commit.</content>
internal sealed partial class LeaderState
{
    private readonly Dictionary<string, HashSet<string>> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _gatesBehind = new(StringComparer.Ordinal);

    /// <summary>Readable workflow records by id.</summary>
    public Dictionary<string, WorkflowInfo> Workflows { get; } = new(StringComparer.Ordinal);

    /// <summary>Workflows to judge in the next pass (staging deadline, removal).</summary>
    public HashSet<string> DirtyWorkflows { get; } = new(StringComparer.Ordinal);

    /// <summary>The revision the jobs watch has reached: every job change up to it is in this state. Set after each
    /// batch of changes (<see cref="AdvanceJobsRevision"/>); 0 until then.</summary>
    public long JobsRevision { get; private set; }

    /// <summary>The revision the jobs watch must reach before a committed workflow's gate opens; 0 when none waits.
    /// The leader asks the jobs watch for progress up to it (<see cref="LeaderScheduler"/>): a commit is a write outside
    /// the jobs prefix, so no job change may come to carry the watch past it.</summary>
    public long JobsRevisionWanted { get; private set; }

    /// <summary>How many jobs of <paramref name="workflowId"/> exist.</summary>
    public int MemberCount(string workflowId) => _members.TryGetValue(workflowId, out var members) ? members.Count : 0;

    /// <summary>
    /// Whether the jobs of <paramref name="workflowId"/> may be judged. A commit is trusted only once the jobs watch has
    /// reached its revision: every job of the workflow was written before it, so from then on a missing dependency is
    /// really gone, never merely not delivered yet. Costs O(1).
    /// </summary>
    public WorkflowGate Gate(string workflowId)
    {
        if (!Workflows.TryGetValue(workflowId, out var workflow))
        {
            return WorkflowGate.Closed;
        }

        return workflow.Record.State switch
        {
            WorkflowState.Aborted => WorkflowGate.Aborted,
            WorkflowState.Committed when Covers(workflow) => WorkflowGate.Open,
            _ => WorkflowGate.Closed,
        };
    }

    /// <summary>Whether the jobs watch has reached <paramref name="workflow"/>'s last change (so every job written
    /// before it is in this state); when not, the workflow and its jobs are judged again once it has.</summary>
    public bool Covers(WorkflowInfo workflow)
    {
        if (workflow.ModRevision <= JobsRevision)
        {
            return true;
        }

        _gatesBehind.Add(workflow.Record.Id);
        JobsRevisionWanted = Math.Max(JobsRevisionWanted, workflow.ModRevision);
        return false;
    }

    /// <summary>Records that the jobs watch has reached <paramref name="revision"/>; the jobs of workflows whose commit it
    /// now covers are judged again. O(workflows waiting for it + their jobs), once per commit.</summary>
    public void AdvanceJobsRevision(long revision)
    {
        if (revision <= JobsRevision)
        {
            return;
        }

        JobsRevision = revision;
        if (JobsRevisionWanted <= revision)
        {
            JobsRevisionWanted = 0;
        }

        foreach (var id in _gatesBehind.ToList())
        {
            if (!Workflows.TryGetValue(id, out var workflow) || workflow.ModRevision <= revision)
            {
                _gatesBehind.Remove(id);
                MarkMembers(id);
                DirtyWorkflows.Add(id);
            }
        }
    }

    private void MarkMembers(string workflowId)
    {
        if (_members.TryGetValue(workflowId, out var members))
        {
            DirtyJobs.UnionWith(members);
        }
    }

    private void ApplyWorkflow(string key, string id, StoreItem? item)
    {
        Workflows.TryGetValue(id, out var previous);
        if (previous is not null && item is not null && previous.Version >= item.Version)
        {
            return; // Already applied (the leader's own write coming back through the watch), or older.
        }

        Workflows.Remove(id);
        if (item is not null && TryParse<WorkflowRecord>(item) is { } record)
        {
            if (record.Id != id || !Contracts.Jobs.JobIds.IsValid(id))
            {
                Quarantine(key, "its id does not match its key");
            }
            else
            {
                Workflows[id] = new WorkflowInfo(key, record, item.Version, item.ModRevision);
            }
        }

        // Its jobs are judged again when what the gate reads changed: its state, or whether it exists.
        Workflows.TryGetValue(id, out var next);
        if (previous?.Record.State != next?.Record.State || previous?.Record.CancelRequested != next?.Record.CancelRequested)
        {
            MarkMembers(id);
        }

        DirtyWorkflows.Add(id);
    }

    /// <summary>Keeps the jobs of each workflow in step with a job's change; the workflow is judged again when its
    /// last job goes (its removal) or its first appears.</summary>
    private void UpdateWorkflowMembers(JobInfo? previous, JobInfo? next)
    {
        var before = previous?.Record.WorkflowId;
        var after = next?.Record.WorkflowId;
        if (before == after)
        {
            return;
        }

        if (before is not null && _members.TryGetValue(before, out var members) && members.Remove(previous!.Record.Id) && members.Count == 0)
        {
            _members.Remove(before);
            DirtyWorkflows.Add(before);
        }

        if (after is not null)
        {
            if (!_members.TryGetValue(after, out var joined))
            {
                joined = new HashSet<string>(StringComparer.Ordinal);
                _members[after] = joined;
                DirtyWorkflows.Add(after);
            }

            joined.Add(next!.Record.Id);
        }
    }

    private IEnumerable<string> WorkflowFingerprint()
    {
        foreach (var (id, workflow) in Workflows.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            yield return $"workflow {id} v{workflow.Version} {workflow.Record.State} jobs={MemberCount(id)}";
        }
    }
}
