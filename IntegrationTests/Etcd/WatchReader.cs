using System.Collections.Concurrent;
using ControlPlane.Etcd;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>Drains a watch in the background into a list the test can poll with Eventually.</summary>
internal sealed class WatchReader : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<EtcdWatchBatch> _batches = new();
    private readonly Task _pump;

    public WatchReader(EtcdWatch watch)
    {
        Watch = watch;
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in watch.ReadAllAsync(_stop.Token))
                {
                    _batches.Enqueue(batch);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Error = ex;
            }
        });
    }

    public EtcdWatch Watch { get; }

    public Exception? Error { get; private set; }

    public IReadOnlyList<EtcdWatchBatch> Batches => [.. _batches];

    public IReadOnlyList<ControlPlane.Etcd.Rpc.Event> Events => [.. _batches.SelectMany(b => b.Events)];

    public string Describe() =>
        $"{Events.Count} events (revisions {string.Join(',', Events.Select(e => e.Kv.ModRevision))}), {Batches.Count(b => b.IsProgressNotification)} progress, error: {Error?.GetType().Name} {Error?.Message}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Watch.DisposeAsync();
        await _pump;
        _stop.Dispose();
    }
}
