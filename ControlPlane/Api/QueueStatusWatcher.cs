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
    /// <summary>How often the caches are asked to prove they caught up with the store (one watch-progress request).</summary>
    internal static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);

    private volatile QueueStatusView? _view;
    private long _progressAt = -1;

    /// <summary>The current leader's published counts; null until the caches have loaded, and whenever
    /// <see cref="QueueStatusView.Current"/> is.</summary>
    public Contracts.Jobs.QueueStatusRecord? Current => _view?.Current;

    /// <summary>Time since the caches last proved they had caught up with the revision the connection had seen (or the
    /// store was out of reach, which is no stall of theirs); null before the store was first reached. For /healthz.</summary>
    public TimeSpan? SinceProgress => Volatile.Read(ref _progressAt) is var at and >= 0 ? time.GetElapsedTime(at) : null;

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

        Volatile.Write(ref _progressAt, time.GetTimestamp());
        await using var status = new WatchCache(store, StoreLayout.QueueStatus, loggerFactory.CreateLogger<WatchCache>(), time);
        await using var election = new WatchCache(store, StoreLayout.Election, loggerFactory.CreateLogger<WatchCache>(), time);
        try
        {
            // Each cache retries its watch by itself (bounded backoff) until its first listing lands or we stop.
            await Task.WhenAll(status.StartAsync(stoppingToken), election.StartAsync(stoppingToken)).ConfigureAwait(false);
            _view = new QueueStatusView(status, election, loggerFactory.CreateLogger<QueueStatusView>());
            // The caches follow the store by themselves; until the director stops, prove now and then that they do.
            await ProveProgressAsync(store, status, election, stoppingToken).ConfigureAwait(false);
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

    /// <summary>
    /// Every <see cref="ProbeInterval"/>: asks both caches to reach the revision the connection has seen (a watch-progress
    /// request when nothing under their prefixes changed) and notes when they did. A probe still waiting is not repeated;
    /// a round in which the session is not connected counts as progress (an unreachable store is not the caches' stall).
    /// </summary>
    private async Task ProveProgressAsync(ICoordinationStore store, WatchCache status, WatchCache election, CancellationToken stoppingToken)
    {
        Task? pending = null;
        while (true)
        {
            // Not a retry: the probe's period.
            await Task.Delay(ProbeInterval, time, stoppingToken).ConfigureAwait(false);
            if (store.Session.State != SessionState.Connected)
            {
                Volatile.Write(ref _progressAt, time.GetTimestamp());
            }

            if (pending is { IsCompleted: true })
            {
                if (pending.IsCompletedSuccessfully)
                {
                    Volatile.Write(ref _progressAt, time.GetTimestamp());
                }
                else
                {
                    _ = pending.Exception; // observed: the next probe asks again
                }

                pending = null;
            }

            if (pending is null)
            {
                var target = store.SeenRevision;
                pending = Task.WhenAll(status.WaitForRevisionAsync(target, stoppingToken), election.WaitForRevisionAsync(target, stoppingToken));
                if (pending.IsCompletedSuccessfully)
                {
                    Volatile.Write(ref _progressAt, time.GetTimestamp());
                    pending = null;
                }
            }
        }
    }
}
