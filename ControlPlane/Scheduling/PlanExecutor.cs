using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Commits a plan as few fenced transactions as the store's limits allow: writes are packed in order, a write is
/// never split, and every transaction carries the leader's epoch check (so a deposed leader's batch fails whole).
/// A batch refused because a record changed is dropped, not retried: the next pass replans from fresh state.
/// </summary>
internal sealed class PlanExecutor
{
    /// <summary>Operations per transaction: the store limit less a margin (the fence is a condition, not an op).</summary>
    internal const int MaxOperations = Transaction.MaxOperations - 2;

    /// <summary>Payload per transaction: well inside the 768 KiB limit, so ZooKeeper's 1 MiB packet is never near.</summary>
    internal const int MaxBytes = 512 * 1024;

    private readonly ICoordinationStore _store;
    private readonly LeaderElection _election;
    private readonly SchedulerMetrics _metrics;
    private readonly ILogger _logger;

    public PlanExecutor(ICoordinationStore store, LeaderElection election, SchedulerMetrics metrics, ILogger logger)
    {
        _store = store;
        _election = election;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Commits the writes; returns the highest revision committed (0 when nothing was).</summary>
    /// <exception cref="LeadershipLostException">Another director leads now; stop scheduling.</exception>
    public async Task<long> ExecuteAsync(IReadOnlyList<PlannedWrite> writes, CancellationToken cancellationToken)
    {
        long revision = 0;
        var batch = new List<PlannedWrite>();
        var operations = 0;
        var bytes = 0;
        foreach (var write in writes)
        {
            // Conditions share the transaction's limits with operations in spirit: count both against one margin.
            var ops = write.Operations + write.Conditions + (write.IdempotencyKey is null ? 0 : 1);
            if (batch.Count > 0 && (operations + ops > MaxOperations || bytes + write.Bytes > MaxBytes))
            {
                revision = Math.Max(revision, await CommitAsync(batch, cancellationToken).ConfigureAwait(false));
                batch.Clear();
                operations = 0;
                bytes = 0;
            }

            batch.Add(write);
            operations += ops;
            bytes += write.Bytes;
        }

        if (batch.Count > 0)
        {
            revision = Math.Max(revision, await CommitAsync(batch, cancellationToken).ConfigureAwait(false));
        }

        return revision;
    }

    private async Task<long> CommitAsync(List<PlannedWrite> batch, CancellationToken cancellationToken)
    {
        var transaction = new Transaction();
        try
        {
            foreach (var write in batch)
            {
                write.Apply(transaction);
                if (write.IdempotencyKey is { } key)
                {
                    await AddIdempotencyRemovalAsync(transaction, key, write.JobId, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The batch broke a transaction limit (size, a key twice) that the estimates missed. Never let that
            // stop the leader: commit the writes one by one, and a write that cannot be built even alone is logged
            // and skipped (the next pass plans it again; its record stays for an operator to see).
            return await CommitOneByOneAsync(batch, e, cancellationToken).ConfigureAwait(false);
        }

        CommitResult result;
        try
        {
            result = await _election.FencedCommitAsync(transaction, _store, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreOutcomeUnknownException e)
        {
            // Every write is conditioned on versions: whether it landed or not, replanning is safe.
            SchedulerLog.BatchOutcomeUnknown(_logger, e, batch.Count);
            return 0;
        }

        if (!result.Succeeded)
        {
            _metrics.Refused();
            SchedulerLog.BatchRefused(_logger, batch.Count, result.FailedIndex);
            return result.Revision;
        }

        _metrics.Committed(batch);
        foreach (var write in batch)
        {
            if (write.Kind == WriteKind.Suspect)
            {
                SchedulerLog.WorkerWrite(_logger, write.Detail.Split(' ')[0], write.Detail);
            }
            else if (_logger.IsEnabled(LogLevel.Information) && write.Kind != WriteKind.Place)
            {
                SchedulerLog.JobWrite(_logger, write.JobId, write.Kind, write.Detail);
            }
        }

        return result.Revision;
    }

    private async Task<long> CommitOneByOneAsync(List<PlannedWrite> batch, Exception why, CancellationToken cancellationToken)
    {
        if (batch.Count == 1)
        {
            SchedulerLog.WriteUnbuildable(_logger, why, batch[0].JobId, batch[0].Kind, batch[0].Detail);
            return 0;
        }

        long revision = 0;
        foreach (var write in batch)
        {
            revision = Math.Max(revision, await CommitAsync([write], cancellationToken).ConfigureAwait(false));
        }

        return revision;
    }

    private async Task AddIdempotencyRemovalAsync(Transaction transaction, string idempotencyKey, string? jobId, CancellationToken cancellationToken)
    {
        var key = IdempotencyKeys.RecordKey(idempotencyKey);
        var item = await _store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (item is null)
        {
            return;
        }

        IdempotencyRecord? record = null;
        try
        {
            record = ContractJson.Deserialize<IdempotencyRecord>(item.Value.Span);
        }
        catch (System.Text.Json.JsonException)
        {
            // An unreadable record is not this job's to remove.
        }

        if (record?.JobId == jobId)
        {
            transaction.Delete(key, item.Version);
        }
    }
}
