using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Api;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Hosting;

/// <summary>One of the director's loops that has stopped making progress.</summary>
/// <param name="Loop"><c>storeSession</c>, <c>schedulerSession</c>, <c>watchCaches</c> or <c>scheduler</c>.</param>
/// <param name="Detail">What stalled, and for how long.</param>
internal sealed record StalledLoop(string Loop, string Detail);

/// <summary>What <see cref="DirectorHealth.Evaluate"/> judges: readings of the director's loops, taken without I/O.</summary>
/// <param name="Session">The API's store session (state, provably alive for), or null before the first connection.</param>
/// <param name="SchedulerSession">The scheduler's own session, or null when the director does not campaign.</param>
/// <param name="CachesSinceProgress">Time since the admission watch caches last proved they caught up with the store
/// (or the store was out of reach, which is not their stall); null before they started.</param>
/// <param name="SchedulerSinceProgress">Time since the scheduling loop completed a pass; null when not leading.</param>
/// <param name="SchedulerLoading">Whether the term's caches are still loading.</param>
/// <param name="Timeout">How long a loop may go without progress: <c>Scheduler:WatchdogTimeout</c>.</param>
internal sealed record HealthReadings(
    (SessionState State, TimeSpan AliveFor)? Session,
    (SessionState State, TimeSpan AliveFor)? SchedulerSession,
    TimeSpan? CachesSinceProgress,
    TimeSpan? SchedulerSinceProgress,
    bool SchedulerLoading,
    TimeSpan Timeout);

/// <summary>
/// What <c>GET /healthz</c> answers (docs/operations.md, "Health"): whether this director's own loops make progress. It
/// reads a few fields (no store request, no lock), so a probe every second costs nothing. An unreachable store is not a
/// stall of the director (restarting it would not help; <c>/readyz</c> reports that); a loop that has stopped while the
/// store answers is:
/// <list type="bullet">
/// <item><c>storeSession</c>, <c>schedulerSession</c>: the client says Connected, yet no request has been acknowledged
/// for a whole session timeout (its I/O loop is stuck).</item>
/// <item><c>watchCaches</c>: the admission caches (<c>status/queue</c>, election) have not caught up with the store's
/// revision for <c>Scheduler:WatchdogTimeout</c> while the session was connected.</item>
/// <item><c>scheduler</c>: while leading, no pass completed for the watchdog's limit (the watchdog should have resigned).</item>
/// </list>
/// </summary>
internal sealed class DirectorHealth(StoreConnection connection, QueueStatusWatcher caches, IOptions<SchedulerOptions> scheduler, IServiceProvider services)
{
    /// <summary>The stalled loops now; empty when healthy.</summary>
    public IReadOnlyList<StalledLoop> Check()
    {
        var runtime = services.GetService<DirectorRuntime>();
        // Each cell's loop has its own watchdog; health reports the one furthest behind.
        var leading = runtime?.Campaigns.Select(c => c.Leading).OfType<LeaderScheduler>().MaxBy(l => l.SinceProgress);
        return Evaluate(new HealthReadings(
            Read(connection.Current?.Session),
            Read(runtime?.SchedulerStore?.Session),
            caches.SinceProgress,
            leading?.SinceProgress,
            leading?.Loading ?? false,
            scheduler.Value.WatchdogTimeout));
    }

    /// <summary>Judges <paramref name="readings"/>: a pure function, unit-tested.</summary>
    public static IReadOnlyList<StalledLoop> Evaluate(HealthReadings readings)
    {
        var stalled = new List<StalledLoop>();
        Session("storeSession", readings.Session);
        Session("schedulerSession", readings.SchedulerSession);
        if (readings.CachesSinceProgress is { } caches && caches > readings.Timeout)
        {
            stalled.Add(new("watchCaches", $"the admission watch caches have not caught up with the store for {caches.TotalSeconds:0} s while it answered (limit {readings.Timeout.TotalSeconds:0} s)"));
        }

        var limit = LeaderWatchdog.Limit(readings.Timeout, readings.SchedulerLoading);
        if (readings.SchedulerSinceProgress is { } since && since > limit)
        {
            stalled.Add(new("scheduler", $"leading, but no scheduling pass completed for {since.TotalSeconds:0} s (the watchdog resigns after {limit.TotalSeconds:0} s)"));
        }

        return stalled;

        void Session(string name, (SessionState State, TimeSpan AliveFor)? session)
        {
            if (session is { State: SessionState.Connected, AliveFor: var alive } && alive <= TimeSpan.Zero)
            {
                stalled.Add(new(name, $"the store client reports its session connected, yet no request was acknowledged for a whole session timeout ({-alive.TotalSeconds:0.#} s past it)"));
            }
        }
    }

    private static (SessionState, TimeSpan)? Read(IStoreSession? session) => session is null ? null : (session.State, session.ProvablyAliveFor);
}
