using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Api;

/// <summary>Reads a workflow and its jobs into a <see cref="WorkflowView"/>.</summary>
internal static class WorkflowReads
{
    /// <summary>Job reads in flight at most while reading a workflow's jobs.</summary>
    private const int ReadsInFlight = 64;

    /// <summary>The workflow whose record is <paramref name="head"/>, with every job read (a job id per node, derived,
    /// so no listing is needed). Cost: one read per job, at most <see cref="ReadsInFlight"/> at a time.</summary>
    public static async Task<WorkflowView> ViewAsync(ICoordinationStore store, StoreItem head, CancellationToken cancellationToken)
    {
        var record = ContractJson.Deserialize<WorkflowRecord>(head.Value.Span);
        var jobs = await ReadJobsAsync(store, record, cancellationToken);
        var revision = jobs.Select(j => j.Item?.ModRevision ?? 0).Append(head.ModRevision).Max();
        return View(record, [.. jobs.Select(j => j.Job)], revision);
    }

    /// <summary>The jobs of <paramref name="workflow"/> in node order, each null when it does not exist (removed after
    /// its retention, or not written yet while staging), with the item it was read from.</summary>
    public static async Task<(string Id, JobRecord? Job, StoreItem? Item)[]> ReadJobsAsync(ICoordinationStore store, WorkflowRecord workflow, CancellationToken cancellationToken)
    {
        var jobs = new (string Id, JobRecord? Job, StoreItem? Item)[Math.Clamp(workflow.Nodes, 0, Limits.MaxWorkflowNodes)];
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs.Length), new ParallelOptions { MaxDegreeOfParallelism = ReadsInFlight, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var id = WorkflowIds.NodeJobId(workflow.Id, i);
                var item = await store.GetAsync(StoreLayout.Job(id), ct);
                jobs[i] = (id, StoreReads.TryParse<JobRecord>(item), item);
            });
        return jobs;
    }

    /// <summary>The view of <paramref name="workflow"/> given its jobs in node order (null for one that does not exist).</summary>
    public static WorkflowView View(WorkflowRecord workflow, IReadOnlyList<JobRecord?> jobs, long revision)
    {
        var refs = jobs.Where(j => j?.WorkflowRef is not null).ToDictionary(j => j!.Id, j => j!.WorkflowRef!, StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var nodes = new List<WorkflowNodeView>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var state = job?.State.ToString() ?? "Removed";
            counts[state] = counts.GetValueOrDefault(state) + 1;
            nodes.Add(new WorkflowNodeView
            {
                Ref = job?.WorkflowRef,
                Job = job?.Id ?? WorkflowIds.NodeJobId(workflow.Id, i),
                State = job?.State,
                DependsOn = [.. (job?.Spec.DependsOn ?? []).Select(d => d with { Ref = refs.GetValueOrDefault(d.Job) })],
                Error = job?.State.IsTerminal() == true ? job.Error : null,
                FinishedAt = job?.FinishedAt,
            });
        }

        return new WorkflowView
        {
            Id = workflow.Id,
            Name = workflow.Name,
            State = workflow.State,
            CancelRequested = workflow.CancelRequested,
            CreatedAt = workflow.CreatedAt,
            CommittedAt = workflow.CommittedAt,
            AbortedAt = workflow.AbortedAt,
            Error = workflow.Error,
            Finished = workflow.State != WorkflowState.Staging && jobs.All(j => j is null || j.State.IsTerminal()),
            Counts = counts,
            Jobs = nodes,
            TraceId = Tracing.TraceIdOf(workflow.TraceParent),
            Revision = revision,
        };
    }
}
