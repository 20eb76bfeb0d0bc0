using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// A shadow director's following of one cell (docs/cells.md, "Shadow directors"): the caches and the incremental
/// <see cref="LeaderState"/> a leader of the cell keeps, fed only by the store's watches, and the <see cref="Planner"/>
/// run on each change, exactly as a leader runs it, except that no write is ever executed or applied: the plan's
/// placements are recorded as decisions in the <see cref="ShadowComparison"/>, and the rest of the plan is dropped. When
/// the leader's placement of a job arrives (the job record Assigned or Running at an attempt on a worker, and that
/// attempt's assignment on it), the comparison judges it. The state is rebuilt from the caches every
/// <see cref="SchedulerOptions.SelfCheckInterval"/> (what passes set aside for writes that never came is dropped).
/// </summary>
/// <remarks>Cost: a leader's, without the writes: the cell's every job, assignment and worker held in memory and
/// watched, and one pass per change; plus O(jobs changed) per batch of changes to compare.</remarks>
internal sealed partial class ShadowFollower
{
    /// <summary>Shortest time between two passes the planner asks for at once (a pass that hit its placement cap): a
    /// shadow places again every job it placed, since none of its writes lands.</summary>
    private static readonly TimeSpan MinimumImmediateWait = TimeSpan.FromMilliseconds(100);

    private readonly SchedulerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Action<ShadowOutcome> _counted;

    /// <summary>Creates the follower; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="options">The shadow's scheduling settings (its placement among them).</param>
    /// <param name="comparison">Where decisions and comparisons go.</param>
    /// <param name="loggerFactory">Logs.</param>
    /// <param name="time">The shadow's clock.</param>
    /// <param name="counted">Told of every comparison (the metric).</param>
    public ShadowFollower(SchedulerOptions options, ShadowComparison comparison, ILoggerFactory loggerFactory, TimeProvider time, Action<ShadowOutcome> counted)
    {
        _options = options;
        Comparison = comparison;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ShadowFollower>();
        _time = time;
        _counted = counted;
    }

    /// <summary>The decisions and comparisons.</summary>
    public ShadowComparison Comparison { get; }

    /// <summary>Follows the cell seen through <paramref name="store"/> (its read-only use: reads and watches) until
    /// <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        var caches = new LeaderCaches(store, _loggerFactory.CreateLogger<WatchCache>(), _time);
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pumps = new List<Task>();
        try
        {
            await caches.StartAsync(stop.Token).ConfigureAwait(false);
            pumps.AddRange(caches.All.Select(c => PumpAsync(c, wake.Writer, stop.Token)));
            var state = new LeaderState(_logger, _options.PlacementStrategy) { BeatWindow = _options.BeatWindow };
            var planner = new Planner(_options) { TermStarted = _time.GetUtcNow() };
            Apply(caches, ref state, full: false);

            // What is out already was placed before this shadow looked: not compared.
            foreach (var job in state.Jobs.Values.Where(j => j.Record.State is JobState.Assigned or JobState.Running))
            {
                Comparison.AlreadyPlaced(job.Record.Id, job.Record.Attempt);
            }

            Comparison.Following(true);
            var nextRebuild = _time.GetUtcNow() + _options.SelfCheckInterval;
            var rebuild = false;
            while (!stop.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                var full = rebuild || now >= nextRebuild;
                var changed = Apply(caches, ref state, full);
                if (full)
                {
                    nextRebuild = now + _options.SelfCheckInterval;
                    rebuild = false;
                }

                Observe(state, changed, now);
                Plan? plan = null;
                try
                {
                    plan = planner.PlanPass(state, 0, now);
                    Decide(plan);
                }
                catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
                {
                    // As a leader does: a record the planner chokes on must not end the follower; start again from a rebuild.
                    SchedulerLog.PassCrashed(_logger, e);
                    rebuild = true;
                }

                await WaitForWakeAsync(wake.Reader, plan?.NextDue, stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            Comparison.Following(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await caches.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAll(pumps.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        }
    }

    /// <summary>Feeds what the caches applied since the last call into the state (with <paramref name="full"/>, adopts
    /// a state rebuilt from their content instead) and returns the ids of the jobs whose record or assignments changed.</summary>
    private HashSet<string> Apply(LeaderCaches caches, ref LeaderState state, bool full)
    {
        var now = _time.GetUtcNow();
        var taken = caches.All.Select(c => c.TakeChanges()).ToList();
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (changes, _, _) in taken)
        {
            foreach (var change in changes)
            {
                state.Apply(change, now);
                if (JobOf(change.Key) is { } jobId)
                {
                    changed.Add(jobId);
                }
            }
        }

        var jobsRevision = caches.All.Zip(taken).First(c => c.First == caches.Jobs).Second.Revision;
        if (full)
        {
            state = LeaderState.Rebuild(taken.SelectMany(t => t.Items.Values), now, _logger, state);
        }

        state.AdvanceJobsRevision(jobsRevision);
        return changed;
    }

    /// <summary>The job a change of a job record or of an assignment concerns, or null.</summary>
    private static string? JobOf(string key)
    {
        var parent = StoreKeys.Parent(key);
        var grandparent = parent is null ? null : StoreKeys.Parent(parent);
        if (grandparent == StoreLayout.Jobs)
        {
            return StoreKeys.Name(key);
        }

        return grandparent == StoreLayout.Assignments && StoreLayout.TryParseAssignmentName(StoreKeys.Name(key), out var jobId, out _) ? jobId : null;
    }

    /// <summary>Judges the leader's placements among <paramref name="jobIds"/>: a job whose record is out on a worker at an
    /// attempt whose assignment is there too. O(jobs changed).</summary>
    private void Observe(LeaderState state, HashSet<string> jobIds, DateTimeOffset now)
    {
        foreach (var jobId in jobIds)
        {
            if (!state.Jobs.TryGetValue(jobId, out var job) || job.Record.State.IsTerminal())
            {
                Comparison.Forget(jobId);
                continue;
            }

            var record = job.Record;
            if (record.State is not (JobState.Assigned or JobState.Running) || record.WorkerId is not { } worker)
            {
                continue;
            }

            var assignment = state.AssignmentsOf(jobId).FirstOrDefault(a => a.Attempt == record.Attempt && a.WorkerId == worker);
            if (assignment is null)
            {
                continue; // its assignment has not arrived yet: judged when it does
            }

            var outcome = Comparison.Observed(jobId, record.Attempt, worker, () => DecideLate(state, record, assignment), now);
            if (outcome is { } counted)
            {
                _counted(counted);
                if (counted == ShadowOutcome.Differ)
                {
                    Log.Differs(_logger, jobId, record.Attempt, worker);
                }
            }
        }
    }

    /// <summary>Where this shadow's placement puts the job now, its own assignment's slots not counted (a pass may have
    /// counted them already): what its planner would have chosen had it seen the job Pending in this view.</summary>
    private static string? DecideLate(LeaderState state, JobRecord record, AssignmentInfo assignment)
    {
        var held = assignment.Holds;
        state.SetHolds(assignment, 0);
        try
        {
            return state.Index.Pick(Requirement.Of(record.Spec))?.Id;
        }
        finally
        {
            state.SetHolds(assignment, held);
        }
    }

    /// <summary>Records the placements of <paramref name="plan"/> (each the creation of an assignment) as decisions.</summary>
    private void Decide(Plan plan)
    {
        foreach (var write in plan.Writes)
        {
            if (write.Kind != WriteKind.Place)
            {
                continue;
            }

            foreach (var operation in write.Operations)
            {
                var parent = StoreKeys.Parent(operation.Key);
                if (operation.Kind == OperationKind.Create && parent is not null && StoreKeys.Parent(parent) == StoreLayout.Assignments
                    && StoreLayout.TryParseAssignmentName(StoreKeys.Name(operation.Key), out var jobId, out var attempt))
                {
                    Comparison.Decided(jobId, attempt, StoreKeys.Name(parent));
                }
            }
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

        if (wake.TryRead(out _))
        {
            return;
        }

        wait = wait < MinimumImmediateWait ? MinimumImmediateWait : wait;
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
        try
        {
            await foreach (var _ in cache.WatchAppliedAsync(cancellationToken).ConfigureAwait(false))
            {
                wake.TryWrite(true);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 860, Level = LogLevel.Debug, Message = "Shadow: the leader placed job {JobId} attempt {Attempt} on {Worker}, not where this shadow would have")]
        public static partial void Differs(ILogger logger, string jobId, int attempt, string worker);
    }
}
