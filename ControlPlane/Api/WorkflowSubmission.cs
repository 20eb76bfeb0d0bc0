using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Scheduling;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.Director.Api;

/// <summary>How a workflow submission ended.</summary>
internal enum WorkflowSubmitResult
{
    /// <summary>Every job was written and the workflow committed.</summary>
    Created,

    /// <summary>The Idempotency-Key names a workflow already committed with the same spec: that workflow.</summary>
    Replayed,

    /// <summary>The Idempotency-Key names a workflow with another spec, or one that was aborted.</summary>
    Conflict,

    /// <summary>Nothing was written: jobs it names by id do not exist (<see cref="WorkflowSubmitOutcome.Errors"/>).</summary>
    Invalid,

    /// <summary>The submission did not complete (the store failed, or it was aborted or cancelled meanwhile): none of its
    /// jobs will run. With an Idempotency-Key a repeat resumes it while it is still staging.</summary>
    NotCommitted,
}

/// <summary>A workflow submission's result.</summary>
internal sealed record WorkflowSubmitOutcome(WorkflowSubmitResult Result, string WorkflowId, WorkflowView? Workflow = null, IReadOnlyList<FieldError>? Errors = null, string? Detail = null);

/// <summary>
/// Writes a workflow: its record first (Staging), then its jobs in chunks that each fit one store transaction and are
/// each conditioned on the record's version, then the record again (Committed) in one write. The leader releases no
/// job of a workflow before it has seen that commit and every job written before it, so however many chunks there
/// are, the workflow becomes visible to the scheduler all at once or not at all: a submission that stops half-way
/// (its director fails, the store refuses) leaves a staging record the leader aborts after its
/// <see cref="WorkflowRecord.StagingUntil"/>, and the jobs written so far end Skipped without ever running.
/// </summary>
/// <remarks>
/// With an Idempotency-Key the workflow's id is derived from the key and each job's id from the workflow's and its
/// position (<see cref="WorkflowIds"/>), so a repeat of a submission that stopped half-way resumes it: chunks already
/// written are recognised and skipped, and the commit is made once. Cost: one read per distinct job named by id,
/// one transaction per <see cref="MaxJobsPerChunk"/> jobs (at most <see cref="ChunksInFlight"/> in flight), two
/// record writes.
/// </remarks>
internal sealed class WorkflowSubmission(StoreConnection connection, TimeProvider time, DirectorMetrics metrics, ILogger<WorkflowSubmission> logger)
{
    /// <summary>Jobs written per transaction at most (the store's transactions take at most 64 entries; one is the
    /// condition on the workflow record).</summary>
    internal const int MaxJobsPerChunk = 50;

    /// <summary>Bytes of keys and values per chunk at most: well inside a transaction (768 KiB) and ZooKeeper's 1 MiB packet.</summary>
    internal const int MaxChunkBytes = 512 * 1024;

    /// <summary>Chunks written at once.</summary>
    internal const int ChunksInFlight = 4;

    /// <summary>How long a director has to commit a workflow after creating its record; the leader aborts it after
    /// that (plus <see cref="Planner.StagingClockAllowance"/>). 10,000 jobs take a few seconds.</summary>
    internal static readonly TimeSpan StagingTimeout = TimeSpan.FromMinutes(2);

    private const int MaxAttempts = 4;

    // store.write.unknown: a chunk or commit whose answer was lost is repeated unchanged; a chunk that landed fails on
    // its jobs' existence and is recognised, a commit that landed is read back.
    private readonly Polly.ResiliencePipeline _repeat =
        StoreRetries.RepeatUnknownOutcome(time, MaxAttempts);

    /// <summary>Submits <paramref name="spec"/>, which <see cref="WorkflowValidator.Validate"/> accepted.</summary>
    public async Task<WorkflowSubmitOutcome> SubmitAsync(WorkflowSpec spec, string? idempotencyKey, CancellationToken cancellationToken) =>
        await SubmitAsync(await connection.GetAsync(cancellationToken), spec, idempotencyKey, cancellationToken);

    /// <summary>Submits through <paramref name="store"/> (a parameter so tests can pass their own).</summary>
    internal async Task<WorkflowSubmitOutcome> SubmitAsync(ICoordinationStore store, WorkflowSpec spec, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var activity = DirectorTracing.StartSubmit(idempotencyKey);
        var workflowId = idempotencyKey is null ? WorkflowIds.New() : WorkflowIds.ForKey(idempotencyKey);
        activity?.SetTag("controlplane.workflow.id", workflowId);
        var normalized = spec with { Jobs = [.. spec.Jobs.Select(n => n with { Job = JobSpecValidator.Normalize(n.Job) })] };
        var specHash = JobSubmission.Sha256Hex(ContractJson.Serialize(normalized));
        var headKey = StoreLayout.Workflow(workflowId);

        if (await MissingJobsAsync(store, spec, cancellationToken) is { Count: > 0 } missing)
        {
            return new WorkflowSubmitOutcome(WorkflowSubmitResult.Invalid, workflowId, Errors: missing);
        }

        var now = time.GetUtcNow();
        var traceParent = DirectorTracing.TraceParentOf(activity);
        var staged = WorkflowTransitions.Staged(workflowId, spec.Name, spec.Jobs.Count, specHash, now, now + StagingTimeout, traceParent);
        var created = await _repeat.ExecuteAsync(
            async ct => await store.CommitAsync(new Transaction().Create(headKey, ContractJson.Serialize(staged)), ct), cancellationToken);
        long headVersion;
        WorkflowRecord head;
        if (created.Succeeded)
        {
            (head, headVersion) = (staged, created.Items is [{ } item] ? item.Version : 0);
            if (created.Items is not [{ }])
            {
                // The store did not hand the item back: read the version the chunks are conditioned on.
                headVersion = (await store.GetAsync(headKey, cancellationToken))?.Version ?? throw new StoreException($"{headKey} vanished after its creation.");
            }
        }
        else
        {
            // The key's workflow exists: the same submission again (a replay, or a resume of one that stopped), or a conflict.
            var existing = await store.GetAsync(headKey, cancellationToken);
            if (existing is null)
            {
                return NotCommitted(workflowId, "its record was removed while it was being submitted; submit it again");
            }

            head = ContractJson.Deserialize<WorkflowRecord>(existing.Value.Span);
            headVersion = existing.Version;
            if (head.SpecHash != specHash)
            {
                return new WorkflowSubmitOutcome(WorkflowSubmitResult.Conflict, workflowId,
                    Detail: $"Idempotency-Key was already used for workflow {workflowId} with a different spec.");
            }

            switch (head.State)
            {
                case WorkflowState.Committed:
                    return new WorkflowSubmitOutcome(WorkflowSubmitResult.Replayed, workflowId, await WorkflowReads.ViewAsync(store, existing, cancellationToken));
                case WorkflowState.Aborted:
                    return new WorkflowSubmitOutcome(WorkflowSubmitResult.Conflict, workflowId,
                        Detail: $"The submission of workflow {workflowId} with this Idempotency-Key was aborted ({head.Error}); submit with a new key.");
            }

            // Staging: resume it (writing a chunk twice is harmless, see WriteChunkAsync).
        }

        var jobs = WorkflowValidator.Resolve(spec, workflowId)
            .Select(n => JobTransitions.SubmittedInWorkflow(n.JobId, n.Spec, head.CreatedAt, workflowId, n.Ref, head.TraceParent))
            .ToList();
        var chunks = Chunk(jobs);
        var left = (head.StagingUntil ?? now) - time.GetUtcNow();
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
        using var staging = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        string? refused = null;
        try
        {
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = ChunksInFlight, CancellationToken = staging.Token }, async (chunk, ct) =>
            {
                if (await WriteChunkAsync(store, headKey, headVersion, chunk, ct) is { } why)
                {
                    Interlocked.CompareExchange(ref refused, why, null);
                    await staging.CancelAsync();
                }
            });

            if (refused is not null)
            {
                return await NotCommittedUnlessTwinCommittedAsync(store, headKey, head, headVersion, refused, cancellationToken);
            }

            var commit = await _repeat.ExecuteAsync(
                async ct => await store.CommitAsync(new Transaction().Update(headKey, ContractJson.Serialize(WorkflowTransitions.Committed(head, time.GetUtcNow())), headVersion), ct),
                staging.Token);
            if (!commit.Succeeded)
            {
                // Our own commit whose answer was lost, a twin submission's commit, or an abort.
                var current = await store.GetAsync(headKey, cancellationToken);
                var record = current is null ? null : ContractJson.Deserialize<WorkflowRecord>(current.Value.Span);
                if (record is not { State: WorkflowState.Committed })
                {
                    return await NotCommittedUnlessTwinCommittedAsync(
                        store, headKey, head, headVersion, record?.Error ?? "its record changed while it was being submitted", cancellationToken);
                }

                commit = new CommitResult { Succeeded = true, Revision = current!.ModRevision };
            }

            metrics.JobsSubmitted.Add(jobs.Count);
            Log.WorkflowAccepted(logger, workflowId, jobs.Count, chunks.Count, commit.Revision);
            var committed = WorkflowTransitions.Committed(head, time.GetUtcNow());
            return new WorkflowSubmitOutcome(WorkflowSubmitResult.Created, workflowId, WorkflowReads.View(committed, jobs, commit.Revision));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A refused chunk cancels the others (its reason is the answer), or the staging time ran out.
            var why = refused ?? $"it was not written within its staging time ({StagingTimeout.TotalSeconds:0} s)";
            return await NotCommittedUnlessTwinCommittedAsync(store, headKey, head, headVersion, why, cancellationToken);
        }
    }

    /// <summary>
    /// The answer when this request could not finish the workflow: the workflow itself when it is committed after all
    /// (a repeat of the same keyed submission, running beside this one, committed it; or this request's own commit
    /// whose answer was lost), else NotCommitted after aborting it at once, so the jobs written so far end Skipped now
    /// rather than when the leader finds its staging expired. The abort is conditioned on the version this request
    /// staged; when it is refused the record is read again, so a concurrent commit is never answered "not committed".
    /// A store failure while aborting leaves the abort to the leader.
    /// </summary>
    private async Task<WorkflowSubmitOutcome> NotCommittedUnlessTwinCommittedAsync(
        ICoordinationStore store, string headKey, WorkflowRecord head, long headVersion, string why, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            // Two rounds at most: read; if still staging at our version, abort; if that was refused, read once more.
            for (var round = 0; round < 2; round++)
            {
                var current = await store.GetAsync(headKey, bounded.Token);
                var record = current is null ? null : ContractJson.Deserialize<WorkflowRecord>(current.Value.Span);
                if (record is { State: WorkflowState.Committed } && record.SpecHash == head.SpecHash)
                {
                    return new WorkflowSubmitOutcome(WorkflowSubmitResult.Replayed, head.Id, await WorkflowReads.ViewAsync(store, current!, bounded.Token));
                }

                if (record is not { State: WorkflowState.Staging } || current!.Version != headVersion)
                {
                    return NotCommitted(head.Id, record?.Error ?? why);
                }

                var aborted = WorkflowTransitions.Aborted(head, why, time.GetUtcNow());
                var result = await store.CommitAsync(new Transaction().Update(headKey, ContractJson.Serialize(aborted), headVersion), bounded.Token);
                if (result.Succeeded)
                {
                    return NotCommitted(head.Id, why);
                }
            }
        }
        catch (Exception e) when ((e is StoreException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            Log.WorkflowNotCommitted(logger, head.Id, $"its abort was not written either ({e.Message}); the leader aborts it after its staging time");
        }

        return NotCommitted(head.Id, why);
    }

    /// <summary>Writes one chunk, conditioned on the workflow record's version; null when its jobs are in the store
    /// (written now or by an earlier attempt of the same submission), else why the workflow cannot be committed.</summary>
    private async Task<string?> WriteChunkAsync(ICoordinationStore store, string headKey, long headVersion, List<JobRecord> chunk, CancellationToken cancellationToken)
    {
        var transaction = new Transaction().RequireVersion(headKey, headVersion);
        foreach (var job in chunk)
        {
            transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
        }

        var result = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(transaction, ct), cancellationToken);
        if (result.Succeeded)
        {
            return null;
        }

        // Refused: the record changed (aborted, cancelled, or committed by a repeat of this submission: the caller reads
        // it again), or jobs of the chunk exist already, written by an earlier attempt. Every one of them is checked (at
        // most 50 reads, on refusal only): an attempt that cut its chunks differently (another build) must not leave a
        // job out.
        var head = await store.GetAsync(headKey, cancellationToken);
        if (head is null || head.Version != headVersion)
        {
            var record = head is null ? null : ContractJson.Deserialize<WorkflowRecord>(head.Value.Span);
            return record?.Error ?? "its record changed while it was being submitted";
        }

        var present = await Task.WhenAll(chunk.Select(j => store.GetAsync(StoreLayout.Job(j.Id), cancellationToken)));
        if (present.All(p => p is not null))
        {
            return null;
        }

        // Some exist, some not: write the missing ones (once; a second refusal is the store's answer).
        var missing = new Transaction().RequireVersion(headKey, headVersion);
        for (var i = 0; i < chunk.Count; i++)
        {
            if (present[i] is null)
            {
                missing.Create(StoreLayout.Job(chunk[i].Id), ContractJson.Serialize(chunk[i]));
            }
        }

        var retried = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(missing, ct), cancellationToken);
        return retried.Succeeded ? null : "the store refused a chunk of its jobs";
    }

    /// <summary>The jobs in chunks of at most <see cref="MaxJobsPerChunk"/> jobs and <see cref="MaxChunkBytes"/> bytes.</summary>
    private static List<List<JobRecord>> Chunk(List<JobRecord> jobs)
    {
        var chunks = new List<List<JobRecord>>();
        List<JobRecord>? current = null;
        var bytes = 0;
        foreach (var job in jobs)
        {
            var size = StoreLayout.Job(job.Id).Length + ContractJson.Serialize(job).Length;
            if (current is null || current.Count == MaxJobsPerChunk || bytes + size > MaxChunkBytes)
            {
                current = [];
                chunks.Add(current);
                bytes = 0;
            }

            current.Add(job);
            bytes += size;
        }

        return chunks;
    }

    /// <summary>The dependencies named by job id that do not exist, as field errors; read at most 64 at a time.</summary>
    private static async Task<List<FieldError>> MissingJobsAsync(ICoordinationStore store, WorkflowSpec spec, CancellationToken cancellationToken)
    {
        var named = spec.Jobs
            .SelectMany((node, i) => (node.Job.DependsOn ?? []).Select((d, k) => (d, Field: $"jobs[{i}].job.dependsOn[{k}].job")))
            .Where(e => e.d.Ref is null)
            .ToList();
        if (named.Count == 0)
        {
            return [];
        }

        var exists = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(named.Select(e => e.d.Job).Distinct(StringComparer.Ordinal),
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (id, ct) => exists[id] = await store.GetAsync(StoreLayout.Job(id), ct) is not null);
        return [.. named.Where(e => !exists[e.d.Job])
            .Select(e => new FieldError(e.Field, $"Job {e.d.Job} does not exist (it never did, or it was removed after its retention)."))];
    }

    private WorkflowSubmitOutcome NotCommitted(string workflowId, string why)
    {
        Log.WorkflowNotCommitted(logger, workflowId, why);
        return new WorkflowSubmitOutcome(WorkflowSubmitResult.NotCommitted, workflowId, Detail: $"Workflow {workflowId} was not committed: {why}. None of its jobs will run.");
    }
}
