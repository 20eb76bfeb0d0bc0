using System.Threading.Channels;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Election;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The leader's reconciliation loop for one term of leadership. It follows the trees it schedules from with
/// watch-fed caches (loaded from the store at the start of every term: nothing carries over from a previous leader
/// but the store), feeds every change they apply, losslessly and in order, into one incremental
/// <see cref="LeaderState"/>, and runs passes: apply the changes, plan from what changed or fell due, commit the
/// plan's fenced batches (several in flight), wait until the caches show the commit. Cache events only wake the loop.
/// Every so often the state is rebuilt from the caches' content and compared with the incremental one: a difference
/// is logged, counted and repaired by adopting the rebuild. The term ends when leadership is lost or a fenced write
/// is refused for the epoch.
/// </summary>
internal sealed class LeaderScheduler
{
    private readonly SchedulerOptions _options;
    private readonly SchedulerMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly QueueStatusPublisher? _queueStatus;
    private long _lastProgress;

    /// <summary>Creates the loop for one term.</summary>
    /// <param name="options">Scheduling settings.</param>
    /// <param name="metrics">Scheduler instruments.</param>
    /// <param name="loggerFactory">Logs.</param>
    /// <param name="time">The leader's clock.</param>
    /// <param name="queueStatus">Publishes the pending counts the directors admit submissions by; none in tests
    /// that do not need admission.</param>
    public LeaderScheduler(SchedulerOptions options, SchedulerMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time, QueueStatusPublisher? queueStatus = null)
    {
        _queueStatus = queueStatus;
        _options = options;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LeaderScheduler>();
        _time = time;
        _lastProgress = time.GetTimestamp();
    }

    /// <summary>Test-only fault injection (<see cref="SchedulerFaults"/>); null in a director.</summary>
    internal SchedulerFaults? Faults { get; init; }

    /// <summary>Time since the loop last completed a pass successfully (or started a term): what the watchdog checks.</summary>
    public TimeSpan SinceProgress => _time.GetElapsedTime(Interlocked.Read(ref _lastProgress));

    /// <summary>True while the term's caches load (a large tree may take longer than one pass should).</summary>
    public bool Loading { get; private set; } = true;

    /// <summary>Schedules until leadership <paramref name="lead"/> ends or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(ICoordinationStore store, LeaderElection election, Leadership lead, CancellationToken cancellationToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var termStarted = _time.GetUtcNow();
        Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
        var caches = new LeaderCaches(store, _loggerFactory.CreateLogger<WatchCache>(), _time);
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var pumps = new List<Task> { WatchLeadershipAsync(election, lead, term) };
        var catchUp = Task.CompletedTask;
        var reason = "cancelled";
        SchedulerLog.Leading(_logger, lead.Epoch);
        _metrics.Leading(true);
        try
        {
            await caches.StartAsync(term.Token).ConfigureAwait(false);
            pumps.AddRange(caches.All.Select(c => PumpAsync(c, wake.Writer, term.Token)));

            // ZooKeeper only: empty assignments/<worker> directories of departed workers go, a bounded few at a time.
            pumps.Add(new AssignmentDirectorySweep(store, election, new AssignmentSweepOptions(), _logger, _time).RunAsync(term.Token));
            // The cell's progressive feature rollouts (docs/cells.md), judged from the results this loop commits.
            var rollouts = new RolloutController(store, election, _options.RolloutInterval, _loggerFactory.CreateLogger<RolloutController>(), _time);
            pumps.Add(rollouts.RunAsync(term.Token));
            var work = new Term(caches, new LeaderState(_logger, _options.PlacementStrategy) { BeatWindow = _options.BeatWindow }, new Planner(_options) { TermStarted = termStarted }, new PlanExecutor(store, election, _metrics, _logger), lead.Epoch)
            {
                Rollouts = rollouts,
                NextSelfCheck = _time.GetUtcNow() + _options.SelfCheckInterval,
            };
            Apply(work, full: false);
            Loading = false;
            Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
            while (!term.IsCancellationRequested)
            {
                if (Faults is not null)
                {
                    await Faults.BeforePassAsync(term.Token).ConfigureAwait(false);
                }

                var plan = await PassAsync(work, term.Token).ConfigureAwait(false);
                if (plan is not null)
                {
                    // Only a pass that worked is progress: a leader whose passes keep failing is made to resign.
                    Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
                    if (_queueStatus is not null)
                    {
                        // At most one small write a second, only when a count changed (docs/operations.md, admission).
                        // The reasons jobs wait (explain) are built from this pass only when a write is due (PlacementReport).
                        var state = work.State;
                        // The jobs per state (the dashboard's overview) are counted in O(states), and only when a write may be due.
                        await _queueStatus.PublishAsync(
                            election, lead.Epoch, plan.Pending, state.PendingByGroup, () => PlacementReport.Build(state, plan), state.CountsByState, term.Token).ConfigureAwait(false);
                    }
                }

                // A committed workflow waits until the jobs watch has reached its commit (a write outside the jobs prefix):
                // ask for watch progress up to it; its arrival wakes this loop through the jobs cache's pump.
                if (work.State.JobsRevisionWanted > caches.Jobs.Revision && catchUp.IsCompleted)
                {
                    catchUp = CatchUpAsync(caches.Jobs, work.State.JobsRevisionWanted, term.Token);
                }

                await WaitForWakeAsync(wake.Reader, plan?.NextDue, term.Token).ConfigureAwait(false);
            }

            reason = "leadership ended";
        }
        catch (LeadershipLostException e)
        {
            reason = e.Message;
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
            reason = cancellationToken.IsCancellationRequested ? "the director is stopping" : "leadership ended";
        }
        finally
        {
            _metrics.Leading(false);
            await term.CancelAsync().ConfigureAwait(false);
            await caches.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAll(pumps.Append(catchUp).Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            SchedulerLog.Stopped(_logger, lead.Epoch, reason);
        }
    }

    /// <summary>Brings <paramref name="jobs"/> to <paramref name="revision"/> by asking the store for watch progress; bounded
    /// to 10 s (the next pass asks again if it is still behind).</summary>
    private static async Task CatchUpAsync(WatchCache jobs, long revision, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await jobs.WaitForRevisionAsync(revision, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The term ended, or the store is slow: asked again after the next pass.
        }
    }

    private async Task<Plan?> PassAsync(Term term, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        Plan? plan = null;
        try
        {
            var now = _time.GetUtcNow();
            var check = term.Rebuild || now >= term.NextSelfCheck;
            if (check && term.Committed > 0)
            {
                // The state may be ahead of the caches by the leader's own writes: a rebuild compares like with like
                // only once the caches show them.
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(10));
                await Task.WhenAll(term.Caches.All.Select(c => c.WaitForRevisionAsync(term.Committed, bounded.Token))).ConfigureAwait(false);
            }

            Apply(term, full: check);
            if (check)
            {
                term.NextSelfCheck = now + _options.SelfCheckInterval;
            }

            plan = term.Planner.PlanPass(term.State, term.Epoch, now);
            var outcome = await term.Executor.ExecuteAsync(plan.Writes, _options.MaxCommitsInFlight, cancellationToken).ConfigureAwait(false);
            foreach (var write in outcome.Failed)
            {
                term.State.Redo(write);
            }

            // What landed is applied at once, so the next pass plans from it without waiting for the watch (on
            // ZooKeeper that wait re-read every changed node); the watch's copy of it is skipped when it comes.
            foreach (var committed in outcome.Committed)
            {
                term.State.ApplyCommitted(committed, now);
                if (committed.Write.Outcome is { } result)
                {
                    term.Rollouts?.Observe(result.Features, result.Failed);
                }
            }

            term.Committed = Math.Max(term.Committed, outcome.Revision);

            _metrics.PassCompleted(plan, _time.GetElapsedTime(started));
            _metrics.WorkersCounted(term.State.WorkerStateCounts);
            SchedulerLog.Pass(_logger, plan.Writes.Count, plan.Pending, plan.Unplaceable);
            return plan;
        }
        catch (Exception e) when (e is StoreException and not LeadershipLostException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            SchedulerLog.PassFailed(_logger, e);
            Redo(term, plan);
            return null;
        }
        catch (Exception e) when (e is not (OperationCanceledException or LeadershipLostException or OutOfMemoryException))
        {
            // A bug or a record the planner chokes on must not take the director (and its API) down: log it, retry
            // from a state rebuilt from the caches, and let the watchdog hand leadership on if no pass succeeds.
            SchedulerLog.PassCrashed(_logger, e);
            term.Rebuild = true;
            return null;
        }
    }

    private static void Redo(Term term, Plan? plan)
    {
        foreach (var write in plan?.Writes ?? [])
        {
            term.State.Redo(write);
        }
    }

    /// <summary>
    /// Feeds every change the caches applied since the last call into the state. With <paramref name="full"/> it
    /// also rebuilds a state from the caches' content (taken atomically with those changes), compares the two, and
    /// adopts the rebuild when they differ.
    /// </summary>
    private void Apply(Term term, bool full)
    {
        var now = _time.GetUtcNow();
        var taken = term.Caches.All.Select(c => c.TakeChanges()).ToList();
        foreach (var (changes, _, _) in taken)
        {
            foreach (var change in changes)
            {
                term.State.Apply(change, now);
            }
        }

        // Taken atomically with its changes: every job change up to it is now in the state (the workflow gate).
        var jobsRevision = term.Caches.All.Zip(taken).First(c => c.First == term.Caches.Jobs).Second.Revision;
        term.State.AdvanceJobsRevision(jobsRevision);

        if (!full)
        {
            return;
        }

        var rebuilt = LeaderState.Rebuild(taken.SelectMany(t => t.Items.Values), now, _logger, term.State);
        rebuilt.AdvanceJobsRevision(jobsRevision);
        var differences = term.Rebuild ? [] : term.State.Differences(rebuilt, 5);
        if (term.Rebuild || differences.Count > 0)
        {
            if (differences.Count > 0)
            {
                SchedulerLog.SelfCheckFailed(_logger, string.Join("; ", differences));
                _metrics.SelfCheckFailed();
            }

            term.State = rebuilt;
            term.Rebuild = false;
        }
    }

    private async Task WaitForWakeAsync(ChannelReader<bool> wake, DateTimeOffset? due, CancellationToken cancellationToken)
    {
        var wait = _options.ReconcileInterval;
        if (due is { } at)
        {
            var untilDue = at - _time.GetUtcNow();
            wait = untilDue < wait ? untilDue : wait;
        }

        if (wait <= TimeSpan.Zero || wake.TryRead(out _))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            await wake.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
            wake.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval passed: a periodic pass.
        }
    }

    private static async Task PumpAsync(WatchCache cache, ChannelWriter<bool> wake, CancellationToken cancellationToken)
    {
        await foreach (var _ in cache.WatchAppliedAsync(cancellationToken).ConfigureAwait(false))
        {
            wake.TryWrite(true);
        }
    }

    /// <summary>Ends the term as soon as the election says this candidate no longer leads with this epoch.</summary>
    private static async Task WatchLeadershipAsync(LeaderElection election, Leadership lead, CancellationTokenSource term)
    {
        try
        {
            await foreach (var now in election.WatchAsync(term.Token).ConfigureAwait(false))
            {
                if (!now.IsLeader || now.Epoch != lead.Epoch)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await term.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>What one term works with.</summary>
    private sealed class Term(LeaderCaches caches, LeaderState state, Planner planner, PlanExecutor executor, long epoch)
    {
        public LeaderCaches Caches { get; } = caches;

        public LeaderState State { get; set; } = state;

        public Planner Planner { get; } = planner;

        public PlanExecutor Executor { get; } = executor;

        public long Epoch { get; } = epoch;

        /// <summary>The next pass starts from a state rebuilt from the caches (after a pass crashed).</summary>
        public bool Rebuild { get; set; }

        public DateTimeOffset NextSelfCheck { get; set; }

        /// <summary>Judges the cell's rollouts from the results this term commits.</summary>
        public RolloutController? Rollouts { get; init; }

        /// <summary>The highest revision this term committed.</summary>
        public long Committed { get; set; }
    }
}
