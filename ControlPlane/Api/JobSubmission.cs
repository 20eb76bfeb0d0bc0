using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Scheduling;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.Director.Api;

/// <summary>How a submission ended.</summary>
internal enum SubmitResult
{
    /// <summary>A new job was written.</summary>
    Created,

    /// <summary>The idempotency key was used before with the same spec: the earlier job.</summary>
    Replayed,

    /// <summary>The idempotency key was used before with another spec.</summary>
    Conflict,

    /// <summary>No idempotency key and the store did not confirm the write: it may or may not exist.</summary>
    OutcomeUnknown,

    /// <summary>Nothing was written: fields refer to what does not exist (a dependency), or are out of range by the
    /// director's clock (<c>runAt</c>); <see cref="SubmitOutcome.Errors"/> names them.</summary>
    Invalid,
}

/// <summary>A submission's result and the job it names (or, for <see cref="SubmitResult.Invalid"/>, what is wrong).</summary>
internal sealed record SubmitOutcome(SubmitResult Result, JobView? Job, string? JobId = null, IReadOnlyList<FieldError>? Errors = null);

/// <summary>
/// Writes a new job (and its idempotency record) in one transaction. Any director accepts submissions; the leader
/// is not involved. A keyed submission is exactly-once: the idempotency record is created with the job, so a
/// replay finds it, and a write whose answer was lost is retried unchanged, which either lands it or finds it
/// already landed (the record names this attempt's job id).
/// </summary>
/// <remarks>A job is written in its cell (docs/cells.md): the one its spec names, or the one <see cref="CellRouter"/>
/// picks; its idempotency record stays at the root (with the cell), in the same transaction, so a replay finds the job
/// wherever routing put it.</remarks>
internal sealed class JobSubmission(StoreConnection connection, TimeProvider time, DirectorMetrics metrics, ILogger<JobSubmission> logger, CellRouter router)
{
    private const int MaxAttempts = 4;

    // store.write.unknown: a keyed submission whose answer was lost is repeated unchanged (3 repeats).
    private readonly Polly.ResiliencePipeline _repeat =
        StoreRetries.RepeatUnknownOutcome(time, MaxAttempts);

    public async Task<SubmitOutcome> SubmitAsync(JobSpec spec, string? idempotencyKey, CancellationToken cancellationToken) =>
        await SubmitAsync(await connection.GetAsync(cancellationToken), spec, idempotencyKey, cancellationToken);

    /// <summary>Submits through <paramref name="store"/> (the connected store; a parameter so tests can pass their own).</summary>
    internal async Task<SubmitOutcome> SubmitAsync(ICoordinationStore store, JobSpec spec, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var normalized = JobSpecValidator.Normalize(spec);
        using var activity = DirectorTracing.StartSubmit(idempotencyKey);
        var now = time.GetUtcNow();
        if (normalized.RunAt is { } runAt && runAt > now + TimeSpan.FromSeconds(Limits.MaxDelaySeconds))
        {
            return Invalid(new FieldError("runAt", $"At most {Limits.MaxDelaySeconds} s ahead of this director's clock ({now:O}); got {runAt:O}."));
        }

        string cell;
        if (normalized.Cell is { } named)
        {
            if (!await CellRegistry.ExistsAsync(store, named, cancellationToken))
            {
                return Invalid(new FieldError("cell", $"No cell '{named}': a named cell exists once an agent with Agent:Cell={named} has started (GET /v1/cells lists them)."));
            }

            cell = named;
        }
        else
        {
            cell = await router.RouteAsync(store, normalized, cancellationToken);
        }

        var cellStore = store.ForCell(cell);
        var job = JobTransitions.Submitted(JobIds.New(), normalized, now, idempotencyKey, DirectorTracing.TraceParentOf(activity));
        activity?.SetTag("controlplane.job.id", job.Id);
        // A key of the root: the job's create and the global idempotency record's go in one transaction.
        var jobKey = Cells.Key(cell, StoreLayout.Job(job.Id));

        // The same mapping the scheduler uses to remove the record with its job after retention.
        var keyHash = idempotencyKey is null ? null : IdempotencyKeys.Hash(idempotencyKey);
        var recordKey = keyHash is null ? null : StoreLayout.IdempotencyRecord(keyHash);
        var specHash = Sha256Hex(ContractJson.Serialize(normalized));
        var transaction = new Transaction();
        if (recordKey is not null)
        {
            transaction.Create(recordKey, ContractJson.Serialize(new IdempotencyRecord
            {
                Key = idempotencyKey!, JobId = job.Id, SpecHash = specHash, Cell = cell == Cells.Default ? null : cell,
            }));
        }

        // Dependencies must exist when the job is created: read before its commit. A new job can only depend on
        // older ones, so dependencies never form a cycle. Not repeated as conditions of the transaction (a job may
        // have more dependencies than a transaction has conditions): a dependency removed in between (only a finished
        // job reaching the end of its retention at that very moment, or a hand edit) makes the leader end the new job
        // Skipped, naming it, and the leader keeps a finished job past retention while a Waiting job depends on it.
        if (await MissingDependenciesAsync(cellStore, normalized, cancellationToken) is { Count: > 0 } missing)
        {
            // A replay of a job that was created while its dependencies existed is still that job.
            var replay = recordKey is null ? null : await FindEarlierAsync(store, recordKey, specHash, cancellationToken);
            return replay?.Outcome ?? Invalid([.. missing]);
        }

        transaction.Create(jobKey, ContractJson.Serialize(job));
        if (recordKey is null)
        {
            try
            {
                var result = await store.CommitAsync(transaction, cancellationToken);
                // A fresh version-7 id cannot exist already; a refusal here is a store fault, not a client error.
                return result.Succeeded
                    ? Created(job, result.Revision, cell)
                    : throw new StoreException($"The store refused to create {jobKey}.");
            }
            catch (StoreOutcomeUnknownException)
            {
                metrics.StoreErrors.Add(1, new KeyValuePair<string, object?>("kind", "unknown_outcome"));
                return new SubmitOutcome(SubmitResult.OutcomeUnknown, null, job.Id);
            }
        }

        // Not a retry of a failure: a round that found the record (or its job) removed between the commit and the read
        // submits again; a lost answer is repeated inside the round by the pipeline.
        for (var round = 1; ; round++)
        {
            var attempt = 0;
            var result = await _repeat.ExecuteAsync(async ct =>
            {
                if (attempt++ > 0)
                {
                    // Repeating the same transaction is safe: if the first landed, this one fails on the record, which names our id.
                    metrics.StoreErrors.Add(1, new KeyValuePair<string, object?>("kind", "unknown_outcome"));
                    Log.SubmitOutcomeUnknown(logger, job.Id, attempt - 1);
                }

                return await store.CommitAsync(transaction, ct);
            }, cancellationToken);

            if (result.Succeeded)
            {
                return Created(job, result.Revision, cell);
            }

            var earlier = await FindEarlierAsync(store, recordKey, specHash, cancellationToken);
            switch (earlier)
            {
                case null:
                    // The record, or its job, was removed (retention) between the commit and the read: submit again.
                    if (round >= MaxAttempts)
                    {
                        throw new StoreException($"The idempotency record {recordKey} or its job keeps changing; try again.");
                    }

                    continue;
                case { Outcome.Result: SubmitResult.Conflict }:
                    return earlier.Value.Outcome;
                case { Outcome.JobId: var earlierId } when earlierId == job.Id:
                    // An earlier attempt of this very request landed: it is this request's creation, not a replay.
                    return Created(job, earlier.Value.CreateRevision, cell) with { Job = earlier.Value.Outcome.Job };
                default:
                    Log.JobReplayed(logger, keyHash!, earlier.Value.Outcome.JobId!);
                    return earlier.Value.Outcome;
            }
        }
    }

    /// <summary>The dependencies of <paramref name="spec"/> that do not exist, as field errors; read together (one
    /// round trip's worth of pipelined reads, at most <see cref="Limits.MaxDependencies"/>).</summary>
    private static async Task<List<FieldError>> MissingDependenciesAsync(ICoordinationStore store, JobSpec spec, CancellationToken cancellationToken)
    {
        if (spec.DependsOn is not { Count: > 0 } dependencies)
        {
            return [];
        }

        var reads = await Task.WhenAll(dependencies.Select(d => store.GetAsync(StoreLayout.Job(d.Job), cancellationToken)));
        var missing = new List<FieldError>();
        for (var i = 0; i < dependencies.Count; i++)
        {
            if (reads[i] is null)
            {
                missing.Add(new FieldError($"dependsOn[{i}].job", $"Job {dependencies[i].Job} does not exist (it never did, or it was removed after its retention)."));
            }
        }

        return missing;
    }

    private static SubmitOutcome Invalid(params FieldError[] errors) => new(SubmitResult.Invalid, null, Errors: errors);

    /// <summary>
    /// What an earlier submission with <paramref name="idempotencyKey"/> left, read without writing anything:
    /// <see cref="SubmitResult.Replayed"/> with its job, <see cref="SubmitResult.Conflict"/> when it had another spec,
    /// or null when there is none (or its job is being removed). Admission control asks this before refusing a keyed
    /// submission, so a replay of a job that exists is answered even while new jobs are refused.
    /// </summary>
    public async Task<SubmitOutcome?> FindEarlierAsync(JobSpec spec, string idempotencyKey, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var keyHash = IdempotencyKeys.Hash(idempotencyKey);
        var earlier = await FindEarlierAsync(
            store, StoreLayout.IdempotencyRecord(keyHash), Sha256Hex(ContractJson.Serialize(JobSpecValidator.Normalize(spec))), cancellationToken);
        if (earlier is { Outcome: { Result: SubmitResult.Replayed } replayed })
        {
            Log.JobReplayed(logger, keyHash, replayed.JobId!);
        }

        return earlier?.Outcome;
    }

    /// <summary>The earlier submission's outcome (a replay or a conflict) and its job's creation revision; null when
    /// the record or its job is missing.</summary>
    private static async Task<(SubmitOutcome Outcome, long CreateRevision)?> FindEarlierAsync(
        ICoordinationStore store, string recordKey, string specHash, CancellationToken cancellationToken)
    {
        var existing = await store.GetAsync(recordKey, cancellationToken);
        if (existing is null)
        {
            return null;
        }

        var earlier = ContractJson.Deserialize<IdempotencyRecord>(existing.Value.Span);
        if (earlier.SpecHash != specHash)
        {
            return (new SubmitOutcome(SubmitResult.Conflict, null, earlier.JobId), 0);
        }

        // The job is in the cell the record names (older records name none: the default cell).
        var cell = earlier.Cell is { } named && Cells.IsValid(named) ? named : Cells.Default;
        var cellStore = store.ForCell(cell);
        var jobItem = JobIds.IsValid(earlier.JobId) ? await cellStore.GetAsync(StoreLayout.Job(earlier.JobId), cancellationToken) : null;
        if (jobItem is null)
        {
            return null;
        }

        var view = await JobViews.ReadAsync(cellStore, jobItem, cancellationToken) with { Cell = cell };
        return (new SubmitOutcome(SubmitResult.Replayed, view, earlier.JobId), jobItem.CreateRevision);
    }

    /// <summary>Lowercase hex SHA-256.</summary>
    internal static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private SubmitOutcome Created(JobRecord job, long revision, string cell)
    {
        // No executor label: clients choose executor names, and a label per name would let them grow the series without bound.
        metrics.JobsSubmitted.Add(1);
        Log.JobAccepted(logger, job.Id, job.Spec.Executor, revision);
        return new SubmitOutcome(SubmitResult.Created, JobViews.From(job, null, revision) with { Cell = cell }, job.Id);
    }
}
