using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Election;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The leader's reconciliation loop for one term of leadership. It builds watch-fed caches of the trees it
/// schedules from (rebuilt from the store at the start of every term: nothing carries over from a previous leader
/// but the store), and runs passes: snapshot, plan, fenced commit, wait until the caches show the commit. Cache
/// events only wake the loop; each pass compares the whole recorded state, so a missed or repeated event changes
/// nothing but latency. The term ends when leadership is lost or a fenced write is refused.
/// </summary>
internal sealed class LeaderScheduler
{
    private static readonly string[] Prefixes =
        [StoreLayout.Workers, StoreLayout.Drains, StoreLayout.Suspects, StoreLayout.Assignments, StoreLayout.Jobs];

    private readonly SchedulerOptions _options;
    private readonly SchedulerMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _lastProgress;

    public LeaderScheduler(SchedulerOptions options, SchedulerMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _options = options;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LeaderScheduler>();
        _time = time;
        _lastProgress = time.GetTimestamp();
    }

    /// <summary>Time since the loop last completed a pass successfully (or started a term): what the watchdog checks.</summary>
    public TimeSpan SinceProgress => _time.GetElapsedTime(Interlocked.Read(ref _lastProgress));

    /// <summary>True while the term's caches load (a large tree may take longer than one pass should).</summary>
    public bool Loading { get; private set; } = true;

    /// <summary>Schedules until leadership <paramref name="lead"/> ends or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(ICoordinationStore store, LeaderElection election, Leadership lead, CancellationToken cancellationToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
        var caches = Prefixes.Select(p => new WatchCache(store, p, _loggerFactory.CreateLogger<WatchCache>(), _time)).ToArray();
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var pumps = new List<Task> { WatchLeadershipAsync(election, lead, term) };
        var reason = "cancelled";
        SchedulerLog.Leading(_logger, lead.Epoch);
        _metrics.Leading(true);
        try
        {
            await Task.WhenAll(caches.Select(c => c.StartAsync(term.Token))).ConfigureAwait(false);
            Loading = false;
            Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
            pumps.AddRange(caches.Select(c => PumpAsync(c, wake.Writer, term.Token)));
            var state = new SchedulerState(_logger);
            var planner = new Planner(_options);
            var executor = new PlanExecutor(store, election, _metrics, _logger);
            while (!term.IsCancellationRequested)
            {
                var plan = await PassAsync(caches, state, planner, executor, lead.Epoch, term.Token).ConfigureAwait(false);
                if (plan is not null)
                {
                    // Only a pass that worked is progress: a leader whose passes keep failing is made to resign.
                    Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp());
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
            foreach (var cache in caches)
            {
                await cache.DisposeAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(pumps.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            SchedulerLog.Stopped(_logger, lead.Epoch, reason);
        }
    }

    private async Task<Plan?> PassAsync(WatchCache[] caches, SchedulerState state, Planner planner, PlanExecutor executor, long epoch, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        try
        {
            var snapshot = state.Build(caches[0].Items, caches[1].Items, caches[2].Items, caches[3].Items, caches[4].Items, epoch, _time.GetUtcNow());
            var plan = planner.PlanPass(snapshot);
            var revision = await executor.ExecuteAsync(plan.Writes, cancellationToken).ConfigureAwait(false);
            if (revision > 0)
            {
                // Plan the next pass only from caches that show this one's writes; otherwise it would replan
                // them from stale versions (harmless, refused by the store, but wasted). Only the trees written
                // are waited for: on ZooKeeper each wait costs a sync.
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bounded.CancelAfter(TimeSpan.FromSeconds(10));
                var written = new List<WatchCache> { caches[3], caches[4] };
                if (plan.Writes.Any(w => w.Kind == WriteKind.Suspect))
                {
                    written.Add(caches[2]);
                }

                await Task.WhenAll(written.Select(c => c.WaitForRevisionAsync(revision, bounded.Token))).ConfigureAwait(false);
            }

            _metrics.PassCompleted(plan, _time.GetElapsedTime(started));
            SchedulerLog.Pass(_logger, plan.Writes.Count, plan.Pending, plan.Unplaceable);
            return plan;
        }
        catch (Exception e) when (e is StoreException and not LeadershipLostException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            SchedulerLog.PassFailed(_logger, e);
            return null;
        }
        catch (Exception e) when (e is not (OperationCanceledException or LeadershipLostException or OutOfMemoryException))
        {
            // A bug or a record the planner chokes on must not take the director (and its API) down: log it, retry,
            // and let the watchdog hand leadership on if no pass succeeds.
            SchedulerLog.PassCrashed(_logger, e);
            return null;
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
}
