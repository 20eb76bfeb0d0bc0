using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Hosting;

/// <summary>What every cell's campaign of one director shares.</summary>
/// <param name="Scheduler">Scheduling settings.</param>
/// <param name="Metrics">Scheduler instruments (one set for the director: the leader gauge counts the cells led).</param>
/// <param name="LoggerFactory">Logs.</param>
/// <param name="Time">The director's clock.</param>
/// <param name="RequestTimeout">Bounds a resignation.</param>
/// <param name="Faults">Test-only fault injection, or null.</param>
internal sealed record CampaignContext(
    SchedulerOptions Scheduler, SchedulerMetrics Metrics, ILoggerFactory LoggerFactory, TimeProvider Time, TimeSpan RequestTimeout, SchedulerFaults? Faults);

/// <summary>
/// A director's candidacy in one cell (docs/cells.md), and the leader stack it runs while it leads there: the cell's
/// <see cref="LeaderElection"/> on the director's main connection and its <see cref="LeaderScheduler"/> on the scheduler's
/// connection, each through the cell's view only, so the stack cannot name another cell's keys; its fence is the cell's
/// own candidate key. A watchdog makes a stalled scheduling loop resign this cell alone; <see cref="Requeue"/> resigns it
/// for spreading. Either way the director campaigns in the cell again, at the back of its queue.
/// </summary>
internal sealed partial class CellCampaign
{
    private readonly ICoordinationStore _store;
    private readonly ICoordinationStore _schedulerStore;
    private readonly byte[] _value;
    private readonly CampaignContext _context;
    private readonly QueueStatusPublisher _queueStatus;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken, Task<string?>> _veto;
    private volatile LeaderElection? _election;
    private volatile LeaderScheduler? _leading;
    private volatile CancellationTokenSource? _candidacy;

    /// <summary>Creates the campaign; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="cell">The cell.</param>
    /// <param name="store">The director's main connection (its root); the candidacy hangs on its session.</param>
    /// <param name="schedulerStore">The scheduler's connection (its root), shared by every cell's stack.</param>
    /// <param name="value">The candidate's value: the director's record.</param>
    /// <param name="queueStatus">The cell's own queue status publisher.</param>
    /// <param name="context">What the cells share.</param>
    /// <param name="veto">Asked each time the candidacy is elected, before a term starts: null when this director may
    /// lead the cell, else why not (its version is not allowed there). A veto resigns and ends the campaign.</param>
    public CellCampaign(
        string cell, ICoordinationStore store, ICoordinationStore schedulerStore, byte[] value, QueueStatusPublisher queueStatus, CampaignContext context,
        Func<CancellationToken, Task<string?>> veto)
    {
        _veto = veto;
        Cell = cell;
        _store = store.ForCell(cell);
        // The leader removes a job's global idempotency record with the job, in one fenced transaction.
        _schedulerStore = schedulerStore.ForCell(cell, [StoreLayout.Idempotency]);
        _value = value;
        _queueStatus = queueStatus;
        _context = context;
        _logger = context.LoggerFactory.CreateLogger<CellCampaign>();
    }

    /// <summary>The cell.</summary>
    public string Cell { get; }

    /// <summary>The current candidacy; null between two.</summary>
    public LeaderElection? Election => _election;

    /// <summary>The scheduling loop of the term this director leads in the cell now; null while it does not lead.</summary>
    public LeaderScheduler? Leading => _leading;

    /// <summary>True while this director leads the cell.</summary>
    public bool IsLeader => _election?.Current.IsLeader == true;

    /// <summary>How many times this campaign resigned (watchdog or spreading).</summary>
    public int Resignations { get; private set; }

    /// <summary>Resigns the current candidacy (leading or not) and campaigns again at the back of the cell's queue.</summary>
    public void Requeue()
    {
        try
        {
            _candidacy?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Between two candidacies: the next one is at the back already.
        }
    }

    /// <summary>Campaigns until <paramref name="stoppingToken"/> fires, or until the veto refuses a term; a fresh
    /// candidacy after each resignation.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["Cell"] = Cell });
        var vetoed = false;
        while (!stoppingToken.IsCancellationRequested && !vetoed)
        {
            using var candidacy = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var election = new LeaderElection(
                _store,
                new LeaderElectionOptions { ElectionKey = StoreLayout.Election, CandidateValue = _value },
                _context.LoggerFactory.CreateLogger<LeaderElection>(),
                _context.Time);
            _election = election;
            _candidacy = candidacy;
            try
            {
                election.Start();
                vetoed = await CampaignAsync(election, candidacy.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Requeued: campaign again below, at the back of the queue.
                Log.Requeued(_logger, Cell);
            }
            finally
            {
                _candidacy = null;
                _election = null;
                // Resigning deletes the candidate key: on shutdown or a requeue a successor leads at once.
                await ResignQuietlyAsync(election).ConfigureAwait(false);
                await election.DisposeAsync().ConfigureAwait(false);
            }

            Resignations++;
        }
    }

    /// <summary>Leads whenever elected, each term scheduling through the cell's view of the scheduler's connection;
    /// returns false when the watchdog made this candidate resign (to campaign afresh), true when the veto refused a term
    /// (the caller resigns and ends the campaign).</summary>
    private async Task<bool> CampaignAsync(LeaderElection election, CancellationToken candidacy)
    {
        while (!candidacy.IsCancellationRequested)
        {
            var lead = await election.WaitForLeadershipAsync(candidacy).ConfigureAwait(false);
            string? veto;
            try
            {
                veto = await _veto(candidacy).ConfigureAwait(false);
            }
            catch (StoreException e)
            {
                // Unknown is not allowed: step aside; the director campaigns here again once it can read the policy.
                veto = $"its policy could not be read ({e.Message})";
            }

            if (veto is not null)
            {
                Log.Vetoed(_logger, Cell, veto);
                return true;
            }

            Log.Leads(_logger, Cell, lead.Epoch);
            var scheduler = new LeaderScheduler(_context.Scheduler, _context.Metrics, _context.LoggerFactory, _context.Time, _queueStatus) { Faults = _context.Faults?.For(Cell) };
            using var term = CancellationTokenSource.CreateLinkedTokenSource(candidacy);
            var run = scheduler.RunAsync(_schedulerStore, election, lead, term.Token);
            _leading = scheduler;
            bool stalled;
            try
            {
                stalled = await WatchdogAsync(scheduler, run, term.Token).ConfigureAwait(false);
            }
            finally
            {
                _leading = null;
            }

            if (stalled)
            {
                // Resign first: deleting the candidate key fences the stalled loop's writes and lets a successor
                // lead now. Only then wait, boundedly, for the loop; one that ignores cancellation is abandoned.
                await ResignQuietlyAsync(election).ConfigureAwait(false);
            }

            await term.CancelAsync().ConfigureAwait(false);
            try
            {
                await run.WaitAsync(_context.Scheduler.WatchdogTimeout, _context.Time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.SchedulerAbandoned(_logger, Cell, _context.Scheduler.WatchdogTimeout.TotalSeconds);
            }

            if (stalled)
            {
                return false;
            }
        }

        return false;
    }

    private async Task ResignQuietlyAsync(LeaderElection election)
    {
        using var resign = new CancellationTokenSource(_context.RequestTimeout);
        try
        {
            await election.ResignAsync(resign.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException)
        {
            Log.ResignFailed(_logger, e, Cell);
        }
    }

    /// <summary>Returns true when the scheduler stalled past the watchdog timeout, false when it ended on its own.</summary>
    private async Task<bool> WatchdogAsync(LeaderScheduler scheduler, Task run, CancellationToken cancellationToken)
    {
        var stalled = await LeaderWatchdog.WaitForStallAsync(
            () => scheduler.SinceProgress, () => scheduler.Loading, run, _context.Scheduler.WatchdogTimeout, _context.Time, cancellationToken).ConfigureAwait(false);
        if (stalled)
        {
            Log.WatchdogResign(_logger, Cell, scheduler.SinceProgress.TotalSeconds);
        }

        return stalled;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 752, Level = LogLevel.Critical, Message = "The scheduling loop of cell {Cell} made no progress for {Seconds:0.0} s: resigning that cell's leadership")]
        public static partial void WatchdogResign(ILogger logger, string cell, double seconds);

        [LoggerMessage(EventId = 756, Level = LogLevel.Critical, Message = "The stalled scheduling loop of cell {Cell} did not stop within {Seconds} s after resigning; it is abandoned (its writes are fenced)")]
        public static partial void SchedulerAbandoned(ILogger logger, string cell, double seconds);

        [LoggerMessage(EventId = 753, Level = LogLevel.Warning, Message = "Could not resign leadership of cell {Cell} cleanly; the session's expiry will end it")]
        public static partial void ResignFailed(ILogger logger, Exception exception, string cell);

        [LoggerMessage(EventId = 773, Level = LogLevel.Information, Message = "Leading cell {Cell} with epoch {Epoch}")]
        public static partial void Leads(ILogger logger, string cell, long epoch);

        [LoggerMessage(EventId = 778, Level = LogLevel.Warning, Message = "Elected in cell {Cell} but not leading it: {Reason}; resigning and leaving its election")]
        public static partial void Vetoed(ILogger logger, string cell, string reason);

        [LoggerMessage(EventId = 774, Level = LogLevel.Information, Message = "Requeued in cell {Cell}: campaigning again at the back of its queue")]
        public static partial void Requeued(ILogger logger, string cell);
    }
}
