using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>
/// Cancels a workflow: records the request on the workflow (a staging one is aborted by it, so none of its jobs ever
/// runs), then cancels each unfinished job like <c>DELETE /v1/jobs/{id}</c> does (Waiting and Pending ones at once,
/// running ones asked to stop). Jobs already finished stay as they are. Should this director stop half-way, the leader
/// cancels the workflow's remaining Waiting jobs itself (the request is on the record); the request can be repeated.
/// Cost: one read per job and one write per unfinished job (a job that changed between the two is read again), at most
/// <see cref="CancelsInFlight"/> at a time.
/// </summary>
internal sealed class WorkflowCancellation(StoreConnection connection, JobCancellation jobs, TimeProvider time, ILogger<WorkflowCancellation> logger)
{
    private const int CancelsInFlight = 16;

    // An optimistic-concurrency loop on the workflow record (the leader may abort it, a director commit it), not a backoff.
    private const int MaxAttempts = 6;

    /// <summary>Cancels workflow <paramref name="workflowId"/>; null when it does not exist.</summary>
    public async Task<WorkflowView?> CancelAsync(string workflowId, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var key = StoreLayout.Workflow(workflowId);
        for (var attempt = 1; ; attempt++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            if (item is null)
            {
                return null;
            }

            var record = ContractJson.Deserialize<WorkflowRecord>(item.Value.Span);
            if (!record.CancelRequested && record.State != WorkflowState.Aborted)
            {
                var next = WorkflowTransitions.CancelRequested(record, time.GetUtcNow());
                var result = await store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(next), item.Version), cancellationToken);
                if (!result.Succeeded)
                {
                    if (attempt >= MaxAttempts)
                    {
                        throw new StoreException($"Workflow {workflowId} keeps changing; try again.");
                    }

                    continue;
                }

                record = next;
            }

            var cancelled = 0;
            if (record.State == WorkflowState.Committed)
            {
                var members = await WorkflowReads.ReadJobsAsync(store, record, cancellationToken);
                await Parallel.ForEachAsync(members.Where(m => m.Job is { } job && !job.State.IsTerminal()),
                    new ParallelOptions { MaxDegreeOfParallelism = CancelsInFlight, CancellationToken = cancellationToken },
                    async (member, ct) =>
                    {
                        if (await jobs.CancelAsync(store, member.Id, member.Item!, ct) == CancelResult.Accepted)
                        {
                            Interlocked.Increment(ref cancelled);
                        }
                    });
            }

            Log.WorkflowCancelled(logger, workflowId, cancelled);
            var current = await store.GetAsync(key, cancellationToken);
            return current is null ? null : await WorkflowReads.ViewAsync(store, current, cancellationToken);
        }
    }
}
