using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;

namespace ControlPlane.Director.Scheduling;

/// <summary>The watch-fed caches of the eight trees a leader schedules from, by name, each keeping a lossless change
/// log for the <see cref="LeaderState"/>.</summary>
internal sealed class LeaderCaches : IAsyncDisposable
{
    public LeaderCaches(ICoordinationStore store, ILogger<WatchCache> logger, TimeProvider time)
    {
        Workers = Follow(StoreLayout.Workers);
        Drains = Follow(StoreLayout.Drains);
        Suspects = Follow(StoreLayout.Suspects);
        Assignments = Follow(StoreLayout.Assignments);
        Jobs = Follow(StoreLayout.Jobs);
        Concurrency = Follow(StoreLayout.Concurrency);
        Schedules = Follow(StoreLayout.Schedules);
        Workflows = Follow(StoreLayout.Workflows);
        All = [Workers, Drains, Suspects, Assignments, Jobs, Concurrency, Schedules, Workflows];

        WatchCache Follow(string prefix)
        {
            var cache = new WatchCache(store, prefix, logger, time);
            cache.EnableChangeLog();
            return cache;
        }
    }

    public WatchCache Workers { get; }

    public WatchCache Drains { get; }

    public WatchCache Suspects { get; }

    public WatchCache Assignments { get; }

    public WatchCache Jobs { get; }

    /// <summary>The concurrency keys' records (<c>concurrency/</c>).</summary>
    public WatchCache Concurrency { get; }

    public WatchCache Schedules { get; }

    /// <summary>Workflow records: the gates of their jobs.</summary>
    public WatchCache Workflows { get; }

    /// <summary>Every cache, workers and markers first, schedules last (the order their changes are applied in: a
    /// schedule is judged with its runs known).</summary>
    public IReadOnlyList<WatchCache> All { get; }

    /// <summary>Starts every cache; returns once each has its initial listing.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.WhenAll(All.Select(c => c.StartAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var cache in All)
        {
            await cache.DisposeAsync().ConfigureAwait(false);
        }
    }
}
