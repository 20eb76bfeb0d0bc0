using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>
/// Keeps this director's <see cref="QueueStatusView"/>: once the store connection is up, it starts a watch cache of
/// <c>status/queue</c> and one of the election candidates on that connection, and stops them with the host. Every
/// director runs it, followers included, so admission never needs the leader or a store read on the POST path.
/// </summary>
internal sealed class QueueStatusWatcher(StoreConnection connection, ILoggerFactory loggerFactory, TimeProvider time) : BackgroundService
{
    private volatile QueueStatusView? _view;

    /// <summary>The current leader's published counts; null until the caches have loaded, and whenever
    /// <see cref="QueueStatusView.Current"/> is.</summary>
    public Contracts.Jobs.QueueStatusRecord? Current => _view?.Current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ICoordinationStore store;
        try
        {
            store = await connection.Connected.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Stopping before the store was ever reached: nothing to follow.
            return;
        }

        await using var status = new WatchCache(store, StoreLayout.QueueStatus, loggerFactory.CreateLogger<WatchCache>(), time);
        await using var election = new WatchCache(store, StoreLayout.Election, loggerFactory.CreateLogger<WatchCache>(), time);
        try
        {
            // Each cache retries its watch by itself (bounded backoff) until its first listing lands or we stop.
            await Task.WhenAll(status.StartAsync(stoppingToken), election.StartAsync(stoppingToken)).ConfigureAwait(false);
            _view = new QueueStatusView(status, election, loggerFactory.CreateLogger<QueueStatusView>());
            // Not a retry: the caches follow the store by themselves; hold them until the director stops.
            await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            _view = null;
        }
    }
}
