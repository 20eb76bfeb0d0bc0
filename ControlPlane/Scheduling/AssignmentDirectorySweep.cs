using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Removes, on ZooKeeper, the empty <c>assignments/&lt;workerId&gt;</c> directory znodes of workers that are no longer
/// registered. Each agent start under a new id leaves one behind; unswept, tens of thousands of them would push the
/// one <c>getChildren</c> of <c>assignments/</c> toward ZooKeeper's 1 MiB packet limit. A no-op on etcd, which has
/// no directories.
/// </summary>
/// <remarks>
/// <para>Cheap and bounded: a run reads the names under <c>workers/</c> and <c>assignments/</c> once each (names only,
/// one request each), checks at most <see cref="AssignmentSweepOptions.MaxChecksPerRun"/> candidates (pipelined
/// <c>exists</c>) and deletes at most <see cref="AssignmentSweepOptions.MaxDeletesPerRun"/>, one directory per
/// transaction. A cursor carries on where the previous run stopped, so directories that are not empty yet do not
/// hide the others.</para>
/// <para>Why it is safe against a racing placement: only the leader creates assignments, and it creates the parent
/// on demand. A delete of a directory that got a child meanwhile fails (ZooKeeper's NotEmpty) and is skipped. A
/// directory deleted between a placement's parent check and its <c>multi</c> makes that <c>multi</c> fail with
/// NoNode; the store then creates the parent again and retries (twice), and a placement still refused is planned
/// again by the next pass. Nothing is lost either way: an empty directory holds nothing.</para>
/// <para>Every delete is fenced with the leader's epoch (<see cref="LeaderElection.FencedCommitAsync(Transaction, ICoordinationStore, CancellationToken)"/>),
/// so a deposed leader's sweep deletes nothing; even unfenced, its deletes of empty directories would be harmless by
/// the reasoning above. A sweep that finds leadership lost stops (<see cref="LeadershipLostException"/>).</para>
/// </remarks>
internal sealed partial class AssignmentDirectorySweep
{
    private const int ChecksInFlight = 64;
    private readonly ICoordinationStore _store;
    private readonly LeaderElection _election;
    private readonly AssignmentSweepOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private string? _cursor;

    /// <summary>Creates the sweep of one term: <paramref name="store"/> is the connection the term writes through.</summary>
    public AssignmentDirectorySweep(ICoordinationStore store, LeaderElection election, AssignmentSweepOptions options, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(election);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _election = election;
        _options = options;
        _logger = logger;
        _time = time;
    }

    /// <summary>
    /// One run: deletes up to <see cref="AssignmentSweepOptions.MaxDeletesPerRun"/> empty assignment directories of
    /// workers not registered now, and returns how many it deleted (always 0 on etcd).
    /// </summary>
    /// <exception cref="LeadershipLostException">This director no longer leads; nothing more was deleted.</exception>
    /// <exception cref="StoreException">The store failed a read; the run stopped (deletes already made stand).</exception>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (_store is not IStoreDirectories directories)
        {
            return 0;
        }

        // Registrations first: a worker that registers after this read and has no assignment yet may lose its empty
        // directory, which the leader's first placement on it creates again.
        var live = (await directories.ListChildNamesAsync(StoreLayout.Workers, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        var names = await directories.ListChildNamesAsync(StoreLayout.Assignments, cancellationToken).ConfigureAwait(false);
        var candidates = Rotate(names.Where(n => !live.Contains(n)).ToList());
        var deleted = 0;
        var checkedCount = 0;
        for (var start = 0; start < candidates.Count && checkedCount < _options.MaxChecksPerRun && deleted < _options.MaxDeletesPerRun; start += ChecksInFlight)
        {
            var chunk = candidates.Skip(start).Take(Math.Min(ChecksInFlight, _options.MaxChecksPerRun - checkedCount)).ToList();
            checkedCount += chunk.Count;
            var empty = await Task.WhenAll(chunk.Select(n => directories.IsEmptyDirectoryAsync(StoreLayout.WorkerAssignments(n), cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < chunk.Count; i++)
            {
                _cursor = chunk[i];
                if (!empty[i])
                {
                    continue;
                }

                if (await DeleteAsync(chunk[i], cancellationToken).ConfigureAwait(false))
                {
                    deleted++;
                }

                if (deleted >= _options.MaxDeletesPerRun)
                {
                    break;
                }
            }
        }

        if (candidates.Count == 0 || checkedCount >= candidates.Count)
        {
            _cursor = null; // every candidate was looked at: the next run starts from the first name
        }

        if (deleted > 0)
        {
            Log.Swept(_logger, deleted, checkedCount, candidates.Count, names.Count);
        }

        return deleted;
    }

    /// <summary>
    /// Sweeps every <see cref="AssignmentSweepOptions.Interval"/> (the first run after a random part of it, so a new
    /// term loads first and directors that took over together do not sweep together) until
    /// <paramref name="cancellationToken"/> fires or leadership is lost. Store failures are logged and the next run
    /// tries again; it never throws but for cancellation.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_store is not IStoreDirectories)
        {
            return;
        }

        var delay = _options.Interval * (0.5 + (Random.Shared.NextDouble() / 2));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Not a retry: the sweep's period (a failed sweep simply waits for the next one).
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                await SweepAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (LeadershipLostException)
            {
                return; // the term ends; the next leader sweeps
            }
            catch (Exception e) when (e is StoreException or OperationCanceledException)
            {
                Log.SweepFailed(_logger, e);
            }

            delay = _options.Interval;
        }
    }

    /// <summary>The candidates after the cursor first, then the ones before it.</summary>
    private List<string> Rotate(List<string> sorted)
    {
        if (_cursor is null)
        {
            return sorted;
        }

        var after = sorted.FindIndex(n => string.CompareOrdinal(n, _cursor) > 0);
        return after <= 0 ? sorted : [.. sorted.Skip(after), .. sorted.Take(after)];
    }

    private async Task<bool> DeleteAsync(string workerId, CancellationToken cancellationToken)
    {
        var key = StoreLayout.WorkerAssignments(workerId);
        try
        {
            var result = await _election.FencedCommitAsync(new Transaction().Delete(key), _store, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                // A child was created meanwhile (NotEmpty), or someone else removed it: both fine.
                Log.NotDeleted(_logger, key);
            }

            return result.Succeeded;
        }
        catch (StoreOutcomeUnknownException e)
        {
            // Deleted or not, an empty directory is harmless; the next run looks again.
            Log.DeleteOutcomeUnknown(_logger, e, key);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 780, Level = LogLevel.Information, Message = "Assignment directory sweep: deleted {Deleted} empty directories of departed workers ({Checked} of {Candidates} unregistered checked; {Total} directories)")]
        public static partial void Swept(ILogger logger, int deleted, int @checked, int candidates, int total);

        [LoggerMessage(EventId = 781, Level = LogLevel.Debug, Message = "Assignment directory {Key} was not deleted: it has children now, or is gone")]
        public static partial void NotDeleted(ILogger logger, string key);

        [LoggerMessage(EventId = 782, Level = LogLevel.Warning, Message = "Deleting assignment directory {Key} had an unknown outcome; the next sweep looks again")]
        public static partial void DeleteOutcomeUnknown(ILogger logger, Exception exception, string key);

        [LoggerMessage(EventId = 783, Level = LogLevel.Warning, Message = "The assignment directory sweep failed; it runs again after its interval")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}

/// <summary>How often and how much <see cref="AssignmentDirectorySweep"/> deletes.</summary>
internal sealed class AssignmentSweepOptions
{
    /// <summary>Time between runs. <value>2 minutes.</value></summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Most directories deleted per run (one small transaction each). With the default interval, 50 a
    /// minute: far more than agents start under new ids, and a trickle for the store. <value>100.</value></summary>
    public int MaxDeletesPerRun { get; set; } = 100;

    /// <summary>Most unregistered workers' directories checked per run (pipelined <c>exists</c>). <value>400.</value></summary>
    public int MaxChecksPerRun { get; set; } = 400;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Interval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"The assignment sweep interval must be at least 1 s; got {Interval}.", nameof(Interval));
        }

        if (MaxDeletesPerRun < 1 || MaxChecksPerRun < MaxDeletesPerRun)
        {
            throw new ArgumentException(
                $"The assignment sweep needs MaxDeletesPerRun ≥ 1 and MaxChecksPerRun ≥ MaxDeletesPerRun; got {MaxDeletesPerRun} and {MaxChecksPerRun}.",
                nameof(MaxDeletesPerRun));
        }
    }
}
