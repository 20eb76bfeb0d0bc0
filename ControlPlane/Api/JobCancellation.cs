using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.Director.Api;

/// <summary>How a cancellation request ended.</summary>
internal enum CancelResult
{
    /// <summary>Recorded (or already recorded): the leader carries it to the agent, or the job was Pending or Waiting and is now Cancelled.</summary>
    Accepted,

    /// <summary>No such job.</summary>
    NotFound,

    /// <summary>The job had already finished.</summary>
    AlreadyFinished,
}

/// <summary>A cancellation's result, the job as written (or found) and the revision of the write.</summary>
internal sealed record CancelOutcome(CancelResult Result, JobView? Job);

/// <summary>
/// Requests cancellation by updating the job record on the version read, so it never overwrites the leader's
/// concurrent assignment or result: a conflict re-reads and decides again. A Pending or Waiting job has no attempt to stop
/// and is Cancelled at once; any other live job gets <c>cancelRequested</c>, which the leader carries to its
/// assignment.
/// </summary>
internal sealed class JobCancellation(StoreConnection connection, TimeProvider time, DirectorMetrics metrics, ILogger<JobCancellation> logger)
{
    /// <summary>The error recorded on a job cancelled while Pending.</summary>
    public const string CancelledBeforeItRan = JobTransitions.CancelledBeforeItRan;

    // Each retry follows a concurrent change of the job (the leader assigning or finishing it); a handful is plenty.
    // Not a Polly pipeline: this is an optimistic-concurrency loop (read, write conditioned on the version read), not a
    // backoff. Each round re-reads the job, which is also what resolves a lost answer (the flag or the Cancelled state
    // is there, or the write is tried again at once against the version just read); a pause would only let the
    // leader's next change race it again.
    private const int MaxAttempts = 6;

    /// <summary>Cancels job <paramref name="jobId"/> in whichever cell holds it (docs/cells.md).</summary>
    public async Task<CancelOutcome> CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var cell = (await CellReads.FindJobAsync(store, jobId, cancellationToken))?.Cell ?? Cells.Default;
        var outcome = await CancelAsync(store.ForCell(cell), jobId, cancellationToken);
        return outcome.Job is null ? outcome : outcome with { Job = outcome.Job with { Cell = cell } };
    }

    /// <summary>Cancels through <paramref name="store"/> (the connected store; a parameter so tests can pass their own).</summary>
    internal async Task<CancelOutcome> CancelAsync(ICoordinationStore store, string jobId, CancellationToken cancellationToken)
    {
        var done = await RequestAsync(store, jobId, null, cancellationToken);
        if (done.Result == CancelResult.NotFound)
        {
            return new CancelOutcome(CancelResult.NotFound, null);
        }

        if (done.Written is { } updated)
        {
            var assignment = await JobViews.ReadAssignmentAsync(store, updated, cancellationToken);
            return new CancelOutcome(CancelResult.Accepted, JobViews.From(updated, assignment, done.Revision));
        }

        return new CancelOutcome(done.Result, await JobViews.ReadAsync(store, done.Item!, cancellationToken));
    }

    /// <summary>
    /// Cancels the job read as <paramref name="item"/> without building its view (a workflow's cancellation, which
    /// read every job already): the item is used for the first try, so a job that did not change costs one write and
    /// no read; one that changed since is read again.
    /// </summary>
    internal async Task<CancelResult> CancelAsync(ICoordinationStore store, string jobId, StoreItem item, CancellationToken cancellationToken) =>
        (await RequestAsync(store, jobId, item, cancellationToken)).Result;

    /// <summary>What <see cref="RequestAsync"/> did: the job as last read (<see cref="Item"/>) or as written
    /// (<see cref="Written"/>, at <see cref="Revision"/>).</summary>
    private readonly record struct Requested(CancelResult Result, StoreItem? Item, JobRecord? Written, long Revision);

    /// <summary>The read-modify-write of a cancellation, starting from <paramref name="known"/> when given.</summary>
    private async Task<Requested> RequestAsync(ICoordinationStore store, string jobId, StoreItem? known, CancellationToken cancellationToken)
    {
        var key = StoreLayout.Job(jobId);
        var maybeWritten = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var item = attempt == 1 && known is not null ? known : await store.GetAsync(key, cancellationToken);
            if (item is null)
            {
                return new Requested(CancelResult.NotFound, null, null, 0);
            }

            var job = ContractJson.Deserialize<JobRecord>(item.Value.Span);
            if (job.State.IsTerminal())
            {
                // After a lost answer, a Cancelled job may be our own earlier write rather than someone else's.
                var ours = maybeWritten && job.State == JobState.Cancelled && job.Error == CancelledBeforeItRan;
                return new Requested(ours ? CancelResult.Accepted : CancelResult.AlreadyFinished, item, null, 0);
            }

            if (job.CancelRequested)
            {
                return new Requested(CancelResult.Accepted, item, null, 0);
            }

            var updated = job.State is JobState.Pending or JobState.Waiting
                ? JobTransitions.CancelledWhilePending(job, time.GetUtcNow())
                : JobTransitions.CancelRequested(job);
            CommitResult result;
            try
            {
                result = await store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(updated), item.Version), cancellationToken);
            }
            catch (StoreOutcomeUnknownException)
            {
                // Re-reading decides: the flag or the Cancelled state is there, or the write is tried again.
                maybeWritten = true;
                continue;
            }

            if (result.Succeeded)
            {
                metrics.CancelRequests.Add(1);
                Log.CancelRequested(logger, jobId, job.State.ToString());
                return new Requested(CancelResult.Accepted, null, updated, result.Revision);
            }
        }

        throw new StoreException($"Job {jobId} kept changing while its cancellation was written; try again.");
    }
}
