using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Keeps leases alive on one LeaseKeepAlive stream per client. Two loops: the stream loop (connect, read
/// answers, reconnect elsewhere on failure) and the ticker (send due keepalives, declare losses). The ticker
/// runs even while disconnected, because loss must be reported when the cluster stays unreachable past the TTL.
/// </summary>
internal sealed partial class LeaseKeeper(EtcdClient client) : IAsyncDisposable
{
    private const string KeepAlivePath = "/etcdserverpb.Lease/LeaseKeepAlive";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    private readonly object _gate = new();
    private readonly Dictionary<long, EtcdLease> _leases = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private GrpcDuplexCall? _call;
    private Task? _streamLoop;
    private Task? _ticker;

    public void Add(EtcdLease lease)
    {
        var now = client.MonotonicNow;
        lease.NextKeepAlive = now + (lease.Ttl / 3);
        lock (_gate)
        {
            _leases[lease.Id] = lease;
            _streamLoop ??= Task.Run(StreamLoopAsync);
            _ticker ??= Task.Run(TickerAsync);
        }

        _wake.Release();
    }

    public void Remove(long id)
    {
        lock (_gate)
        {
            _leases.Remove(id);
        }
    }

    private EtcdLease[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _leases.Values];
        }
    }

    private void Lose(EtcdLease lease, string reason)
    {
        Remove(lease.Id);
        if (lease.MarkLost(reason))
        {
            EtcdMetrics.RecordLeaseLoss(reason.StartsWith("expired", StringComparison.Ordinal) ? "expired" : "unconfirmed");
            Log.LeaseLost(client.Logger, lease.Id, reason);
        }
    }

    private async Task TickerAsync()
    {
        var stopping = client.DisposedToken;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Not a retry: the ticker's pace (send due keepalives, declare losses), on the client's clock.
                await Task.Delay(Tick, client.Time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var now = client.MonotonicNow;
            GrpcDuplexCall? call;
            lock (_gate)
            {
                call = _call;
            }

            foreach (var lease in Snapshot())
            {
                if (now >= lease.Deadline)
                {
                    Lose(lease, $"no keepalive confirmed within the TTL of {lease.Ttl.TotalSeconds:0} s");
                }
                else if (call is not null && now >= lease.NextKeepAlive)
                {
                    // Re-sent every TTL/3 even without an answer, so one lost message does not cost the lease.
                    lease.NextKeepAlive = now + (lease.Ttl / 3);
                    await SendAsync(call, lease, now).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task SendAsync(GrpcDuplexCall call, EtcdLease lease, DateTimeOffset now)
    {
        try
        {
            // Recorded before the write: the answer may be read before WriteAsync returns, and the server's TTL
            // counts from a moment after this one, so deadlines computed from it are never too late.
            lease.RecordSent(now);
            await call.WriteAsync(new LeaseKeepAliveRequest { ID = lease.Id }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException
                                       or InvalidOperationException)
        {
            // A broken stream: cancelling it makes the stream loop reconnect.
            await call.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task WaitQuietlyAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or EtcdException)
        {
            // Shutdown, or a renewal that failed: the next attempt decides.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _wake.Release();
        Task[] loops;
        lock (_gate)
        {
            loops = new[] { _streamLoop, _ticker }.OfType<Task>().ToArray();
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        foreach (var lease in Snapshot())
        {
            lease.MarkEnded(EtcdLeaseState.Released);
        }

        lock (_gate)
        {
            _leases.Clear();
        }
    }
}
