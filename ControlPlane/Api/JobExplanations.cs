using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Api;

/// <summary>
/// <c>GET /v1/jobs/{id}/explain</c> on any director: reads the job (and, for an Assigned job, its assignment, its
/// worker's registration and markers, four reads together; for a job behind another of its FIFO group, that job) and
/// judges it with <see cref="JobExplainer"/> against the queue status this director already follows. At most five
/// store reads, whatever the number of jobs and workers, except for a Waiting job, whose dependencies are read together
/// (one read each, at most <see cref="Limits.MaxDependencies"/>); nothing is asked of the leader.
/// </summary>
internal sealed class JobExplanations(StoreConnection connection, QueueStatusWatcher status, IOptions<AdmissionOptions> admission, TimeProvider time)
{
    /// <summary>The explanation, or null when there is no such job.</summary>
    public async Task<JobExplanation?> ExplainAsync(string jobId, long? minRevision, CancellationToken cancellationToken)
    {
        var root = await connection.GetAsync(cancellationToken);
        if (minRevision is { } wanted)
        {
            await root.SyncAsync(wanted, cancellationToken);
        }

        // In whichever cell holds it (docs/cells.md); its reads stay in that cell.
        if (await CellReads.FindJobAsync(root, jobId, cancellationToken) is not { } found)
        {
            return null;
        }

        var (cell, item) = found;
        var store = root.ForCell(cell);
        var job = ContractJson.Deserialize<JobRecord>(item.Value.Span);
        // This director follows the default cell's queue status only: a named cell's job is explained without it.
        var queue = cell == Cells.Default ? status.Current : null;
        var input = new ExplainInputs(job, item.ModRevision, Status: queue, Now: time.GetUtcNow());
        if (job.State is JobState.Assigned or JobState.Running && job.WorkerId is { } worker && JobSpecValidator.IsName(worker))
        {
            var assignment = store.GetAsync(StoreLayout.Assignment(worker, job.Id, job.Attempt), cancellationToken);
            var registration = store.GetAsync(StoreLayout.Worker(worker), cancellationToken);
            var suspect = store.GetAsync(StoreLayout.Suspect(worker), cancellationToken);
            var drain = store.GetAsync(StoreLayout.Drain(worker), cancellationToken);
            await Task.WhenAll(assignment, registration, suspect, drain);
            input = input with
            {
                Assignment = StoreReads.TryParse<AssignmentRecord>(await assignment),
                Worker = StoreReads.TryParse<WorkerRecord>(await registration),
                Suspect = StoreReads.TryParse<SuspectRecord>(await suspect),
                DrainRequested = await drain is not null,
            };
        }
        else if (job.State == JobState.Waiting)
        {
            var workflow = job.WorkflowId is { } workflowId && JobIds.IsValid(workflowId)
                ? store.GetAsync(StoreLayout.Workflow(workflowId), cancellationToken)
                : Task.FromResult<StoreItem?>(null);
            var reads = await Task.WhenAll((job.Spec.DependsOn ?? []).Select(d =>
                JobIds.IsValid(d.Job) ? store.GetAsync(StoreLayout.Job(d.Job), cancellationToken) : Task.FromResult<StoreItem?>(null)));
            input = input with
            {
                Dependencies = [.. reads.Select(StoreReads.TryParse<JobRecord>)],
                Workflow = StoreReads.TryParse<Contracts.Workflows.WorkflowRecord>(await workflow),
            };
        }
        else if (job.State == JobState.Pending && job.Spec.Group is { } group && queue?.GroupHeads?.GetValueOrDefault(group) is { } head
                 && head.Job != job.Id && JobIds.IsValid(head.Job))
        {
            input = input with { GroupHead = StoreReads.TryParse<JobRecord>(await store.GetAsync(StoreLayout.Job(head.Job), cancellationToken)) };
        }

        return JobExplainer.Explain(input, admission.Value);
    }

}
