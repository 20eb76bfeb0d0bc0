using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Carries every watch of a client on one bidirectional Watch stream and keeps them alive across stream
/// failures. Creates are sent one at a time because etcd acknowledges them in order without echoing anything
/// that identifies the request; the acknowledgement is matched to <see cref="_creating"/>.
/// </summary>
internal sealed partial class WatchMultiplexer(EtcdClient client) : IAsyncDisposable
{
    private const string WatchPath = "/etcdserverpb.Watch/Watch";

    private readonly object _gate = new();
    private readonly LinkedList<Watcher> _pending = new();
    private readonly Dictionary<long, Watcher> _active = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private Watcher? _creating;
    private GrpcDuplexCall? _call;
    private Task? _loop;
    private Uri _opening = client.Endpoints.Current;

    /// <summary>Queues a watch and waits until the server acknowledged it (or refused it).</summary>
    public async Task AddAsync(Watcher watcher, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _pending.AddLast(watcher);
            _loop ??= Task.Run(RunAsync);
        }

        _wake.Release();
        await PumpCreatesAsync().ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, client.DisposedToken);
        try
        {
            await watcher.Created.Task.WaitAsync(client.Options.RequestTimeout, client.Time, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await RemoveAsync(watcher).ConfigureAwait(false);
            ObjectDisposedException.ThrowIf(client.DisposedToken.IsCancellationRequested, client);
            throw new EtcdTimeoutException(
                $"watch on '{watcher.KeyText}' was not acknowledged within {client.Options.RequestTimeout.TotalSeconds:0.###} s", ex);
        }
        catch
        {
            await RemoveAsync(watcher).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops a watch on the caller's request; its enumeration ends normally.</summary>
    public async Task RemoveAsync(Watcher watcher)
    {
        GrpcDuplexCall? call = null;
        long id = -1;
        lock (_gate)
        {
            watcher.Canceled = true;
            _pending.Remove(watcher);
            if (watcher.WatchId >= 0 && _active.Remove(watcher.WatchId))
            {
                id = watcher.WatchId;
                call = _call;
            }
        }

        watcher.End(null);
        if (call is not null)
        {
            await TryWriteAsync(call, new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = id } }).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the server for a progress notification on every watch of the stream (etcd 3.4+).</summary>
    public async Task RequestProgressAsync(CancellationToken cancellationToken)
    {
        GrpcDuplexCall? call;
        lock (_gate)
        {
            call = _call;
        }

        if (call is null)
        {
            throw new EtcdUnavailableException("no watch stream is open");
        }

        await call.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the next queued create if none is awaiting its acknowledgement.</summary>
    private async Task PumpCreatesAsync()
    {
        GrpcDuplexCall? call;
        WatchRequest? request = null;
        lock (_gate)
        {
            call = _call;
            if (call is null || _creating is not null)
            {
                return;
            }

            while (_pending.First is { } node)
            {
                _pending.RemoveFirst();
                if (!node.Value.Canceled)
                {
                    _creating = node.Value;
                    request = node.Value.BuildCreate();
                    break;
                }
            }
        }

        if (request is not null)
        {
            await TryWriteAsync(call, request).ConfigureAwait(false);
        }
    }

    /// <summary>A failed write means a broken stream: tear it down so the read loop resumes everything.</summary>
    private static async Task TryWriteAsync(GrpcDuplexCall call, WatchRequest request)
    {
        try
        {
            await call.WriteAsync(request, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException
                                       or InvalidOperationException)
        {
            await call.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }

        _wake.Release();
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        List<Watcher> all;
        lock (_gate)
        {
            all = [.. _pending, .. _active.Values];
            if (_creating is not null)
            {
                all.Add(_creating);
            }

            _pending.Clear();
            _active.Clear();
            _creating = null;
        }

        foreach (var watcher in all)
        {
            watcher.End(new ObjectDisposedException(nameof(EtcdClient), "the etcd client was disposed"));
        }
    }
}
