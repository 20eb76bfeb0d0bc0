using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Commits a plan as few fenced transactions as the store's limits allow, several at once: writes are packed in
/// order, a write is never split, and every transaction carries the leader's epoch check (so a deposed leader's batch
/// fails whole). A batch refused because a record changed is dropped, not retried: its writes are handed back so the
/// leader's state judges their records again in the next pass.
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

    /// <summary>
    /// Commits the writes as batches, up to <paramref name="inFlight"/> at once (writes of one plan touch distinct
    /// records and each is conditioned on what it read, so batches are independent). Returns the highest revision
    /// committed (0 when nothing was) and the writes that did not land or whose outcome is unknown, for the state
    /// to judge again.
    /// </summary>
    /// <exception cref="LeadershipLostException">Another director leads now; stop scheduling.</exception>
    /// <exception cref="StoreException">The store failed; the pass failed (the caller judges every write again).</exception>
    public async Task<ExecutionResult> ExecuteAsync(IReadOnlyList<PlannedWrite> writes, int inFlight, CancellationToken cancellationToken)
    {
        var batches = Batch(writes);
        var failed = new List<PlannedWrite>();
        var committed = new List<CommittedWrite>();
        long revision = 0;
        if (batches.Count == 0)
        {
            return new ExecutionResult(0, failed, committed);
        }

        using var slots = new SemaphoreSlim(Math.Max(1, inFlight));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var commits = batches.Select(async batch =>
        {
            await slots.WaitAsync(stop.Token).ConfigureAwait(false);
            try
            {
                var outcome = await CommitAsync(batch, stop.Token).ConfigureAwait(false);
                lock (failed)
                {
                    revision = Math.Max(revision, outcome.Revision);
                    failed.AddRange(outcome.Failed);
                    committed.AddRange(outcome.Committed);
                }
            }
            catch (LeadershipLostException)
            {
                // Deposed: the other batches are fenced too; stop sending them.
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        try
        {
            await Task.WhenAll(commits).ConfigureAwait(false);
        }
        catch (Exception) when (commits.FirstOrDefault(c => c.Exception?.InnerException is LeadershipLostException) is { } deposed)
        {
            throw deposed.Exception!.InnerException!;
        }

        return new ExecutionResult(revision, failed, committed);
    }

    /// <summary>Packs writes in order into batches within the transaction limits; a write is never split.</summary>
    internal static List<List<PlannedWrite>> Batch(IReadOnlyList<PlannedWrite> writes)
    {
        var batches = new List<List<PlannedWrite>>();
        var batch = new List<PlannedWrite>();
        var entries = 0;
        var bytes = 0;
        foreach (var write in writes)
        {
            if (batch.Count > 0 && (entries + write.Entries > MaxOperations || bytes + write.Bytes > MaxBytes))
            {
                batches.Add(batch);
                batch = [];
                entries = 0;
                bytes = 0;
            }

            batch.Add(write);
            entries += write.Entries;
            bytes += write.Bytes;
        }

        if (batch.Count > 0)
        {
            batches.Add(batch);
        }

        return batches;
    }

    private async Task<ExecutionResult> CommitAsync(List<PlannedWrite> batch, CancellationToken cancellationToken)
    {
        var transaction = new Transaction();
        var firstOperation = new int[batch.Count];
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                firstOperation[i] = transaction.Operations.Count;
                write.Apply(transaction);
                if (write.IdempotencyKey is { } key)
                {
                    await AddIdempotencyRemovalAsync(transaction, key, write.JobId, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The batch broke a transaction limit (a key twice, a bad key) that packing cannot see. Never let that
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
            return new ExecutionResult(0, batch, []);
        }

        if (!result.Succeeded)
        {
            _metrics.Refused();
            SchedulerLog.BatchRefused(_logger, batch.Count, result.FailedIndex);
            return new ExecutionResult(result.Revision, batch, []);
        }

        _metrics.Committed(batch);
        foreach (var write in batch)
        {
            if (write.Kind == WriteKind.Suspect)
            {
                SchedulerLog.WorkerWrite(_logger, write.Detail.Split(' ')[0], write.Detail);
            }
            else if (_logger.IsEnabled(LogLevel.Information) && write.Kind is not (WriteKind.Place or WriteKind.Release))
            {
                SchedulerLog.JobWrite(_logger, write.JobId, write.Kind, write.Detail);
            }
        }

        var committed = new List<CommittedWrite>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var items = new StoreItem?[batch[i].Operations.Count];
            for (var o = 0; o < items.Length; o++)
            {
                items[o] = firstOperation[i] + o < result.Items.Count ? result.Items[firstOperation[i] + o] : null;
            }

            committed.Add(new CommittedWrite(batch[i], items, result.Revision));
        }

        return new ExecutionResult(result.Revision, [], committed);
    }

    private async Task<ExecutionResult> CommitOneByOneAsync(List<PlannedWrite> batch, Exception why, CancellationToken cancellationToken)
    {
        if (batch.Count == 1)
        {
            SchedulerLog.WriteUnbuildable(_logger, why, batch[0].JobId, batch[0].Kind, batch[0].Detail);
            return new ExecutionResult(0, batch, []);
        }

        long revision = 0;
        var failed = new List<PlannedWrite>();
        var committed = new List<CommittedWrite>();
        foreach (var write in batch)
        {
            var outcome = await CommitAsync([write], cancellationToken).ConfigureAwait(false);
            revision = Math.Max(revision, outcome.Revision);
            failed.AddRange(outcome.Failed);
            committed.AddRange(outcome.Committed);
        }

        return new ExecutionResult(revision, failed, committed);
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

/// <summary>A write the store applied, with what it wrote (the items of its creates and updates, null for deletes)
/// and the commit's revision.</summary>
/// <param name="Write">The write.</param>
/// <param name="Items">Per operation of the write: the item as written, or null (a delete).</param>
/// <param name="Revision">The commit's revision.</param>
internal sealed record CommittedWrite(PlannedWrite Write, IReadOnlyList<StoreItem?> Items, long Revision);

/// <summary>What committing a plan did.</summary>
/// <param name="Revision">The highest revision committed (0 when nothing was).</param>
/// <param name="Failed">Writes that did not land or whose outcome is unknown.</param>
/// <param name="Committed">Writes that landed.</param>
internal sealed record ExecutionResult(long Revision, IReadOnlyList<PlannedWrite> Failed, IReadOnlyList<CommittedWrite> Committed);
