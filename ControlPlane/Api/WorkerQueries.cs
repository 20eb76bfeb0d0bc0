using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>How a drain request ended.</summary>
internal enum DrainResult
{
    /// <summary>The drain record exists now (written by this request or an earlier one).</summary>
    Accepted,

    /// <summary>No worker is registered under the id.</summary>
    NotFound,
}

/// <summary>
/// Workers as the store shows them: registrations under <c>workers/</c>, slots held by unfinished assignments,
/// and drain or suspect markers. Drain requests are records any director may write; the agent acts on them.
/// </summary>
internal sealed class WorkerQueries(StoreConnection connection, TimeProvider time, DirectorIdentity identity, ILogger<WorkerQueries> logger)
{
    private const int MaxAttempts = 3;

    public async Task<IReadOnlyList<WorkerView>> ListAsync(CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var workers = await StoreReads.ListAllAsync(store, StoreLayout.Workers, cancellationToken);
        var drains = (await StoreReads.ListAllAsync(store, StoreLayout.Drains, cancellationToken)).Select(StoreReads.Name).ToHashSet(StringComparer.Ordinal);
        var suspects = (await StoreReads.ListAllAsync(store, StoreLayout.Suspects, cancellationToken)).Select(StoreReads.Name).ToHashSet(StringComparer.Ordinal);
        var views = new List<WorkerView>(workers.Count);
        foreach (var item in workers)
        {
            var worker = ContractJson.Deserialize<WorkerRecord>(item.Value.Span);
            var id = StoreReads.Name(item);
            var used = 0;
            foreach (var assignment in await StoreReads.ListAllAsync(store, StoreLayout.WorkerAssignments(id), cancellationToken))
            {
                var record = ContractJson.Deserialize<AssignmentRecord>(assignment.Value.Span);
                used += record.IsFinished ? 0 : record.Slots;
            }

            var state = worker.Draining || drains.Contains(id) ? WorkerState.Draining
                : suspects.Contains(id) ? WorkerState.Suspect
                : WorkerState.Ready;
            views.Add(new WorkerView
            {
                Id = id,
                Host = worker.Host,
                Labels = worker.Labels,
                Slots = worker.Slots,
                SlotsUsed = used,
                Version = worker.Version,
                ProtocolVersion = worker.ProtocolVersion,
                Capabilities = new WorkerCapabilities(worker.Executors, worker.Features),
                State = state.ToString().ToLowerInvariant(),
                StartedAt = worker.StartedAt,
            });
        }

        return views;
    }

    /// <summary>Writes <c>drains/&lt;id&gt;</c> if the worker is registered; returns the revision the drain is visible at.</summary>
    public async Task<(DrainResult Result, long Revision)> DrainAsync(string workerId, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var record = new DrainRecord { RequestedAt = time.GetUtcNow(), RequestedBy = identity.Id };
        var transaction = new Transaction()
            .RequireExists(StoreLayout.Worker(workerId))
            .Create(StoreLayout.Drain(workerId), ContractJson.Serialize(record));
        for (var attempt = 1; ; attempt++)
        {
            CommitResult result;
            try
            {
                result = await store.CommitAsync(transaction, cancellationToken);
            }
            catch (StoreOutcomeUnknownException) when (attempt < MaxAttempts)
            {
                // The retry either writes the record or finds it (index 1): both mean the drain is requested.
                continue;
            }

            if (result.Succeeded)
            {
                Log.DrainRequested(logger, workerId);
                return (DrainResult.Accepted, result.Revision);
            }

            if (result.FailedIndex == 0)
            {
                return (DrainResult.NotFound, result.Revision);
            }

            if (result.FailedIndex == 1)
            {
                return (DrainResult.Accepted, result.Revision);
            }

            // The store could not say which check failed: look.
            var registered = await store.GetAsync(StoreLayout.Worker(workerId), cancellationToken) is not null;
            var drained = await store.GetAsync(StoreLayout.Drain(workerId), cancellationToken) is not null;
            if (drained || !registered || attempt >= MaxAttempts)
            {
                return (drained ? DrainResult.Accepted : DrainResult.NotFound, store.SeenRevision);
            }
        }
    }
}
