using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Keeps leases alive on one LeaseKeepAlive stream per client. Two loops: the stream loop (connect, read
/// answers, reconnect elsewhere on failure) and the ticker (send due keepalives, declare losses). The ticker
/// runs even while disconnected, because loss must be reported when the cluster stays unreachable past the TTL.
/// </summary>
internal sealed class LeaseKeeper(EtcdClient client) : IAsyncDisposable
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
        var now = client.Time.GetUtcNow();
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
                await Task.Delay(Tick, client.Time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var now = client.Time.GetUtcNow();
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

    private async Task StreamLoopAsync()
    {
        var stopping = client.DisposedToken;
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            var first = Snapshot().FirstOrDefault();
            if (first is null)
            {
                await WaitQuietlyAsync(_wake.WaitAsync(stopping)).ConfigureAwait(false);
                continue;
            }

            var endpoint = client.Endpoints.Current;
            string? token = null;
            GrpcDuplexCall call;
            try
            {
                token = await client.GetTokenAsync(stopping).ConfigureAwait(false);
                // Answers of the previous stream will never come: forget what was outstanding on it.
                foreach (var lease in Snapshot())
                {
                    lease.Unanswered.Clear();
                }

                first.RecordSent(client.Time.GetUtcNow());
                call = await GrpcDuplexCall.StartAsync(client.Transport, endpoint, KeepAlivePath, token, requireLeader: false,
                    new LeaseKeepAliveRequest { ID = first.Id }, client.Options.ConnectTimeout, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                failures++;
                if (ex is EtcdAuthenticationException && token is not null)
                {
                    await WaitQuietlyAsync(client.RenewTokenAsync(token, stopping)).ConfigureAwait(false);
                }
                else
                {
                    client.Endpoints.MarkFailed(endpoint);
                }

                Log.KeepAliveStreamBroken(client.Logger, endpoint, ex);
                await WaitQuietlyAsync(Task.Delay(client.Backoff(failures), client.Time, stopping)).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            lock (_gate)
            {
                _call = call;
            }

            Log.KeepAliveStreamOpened(client.Logger, endpoint);
            Exception? reason = null;
            try
            {
                while (true)
                {
                    var response = await call.ReadAsync(LeaseKeepAliveResponse.Parser, stopping).ConfigureAwait(false);
                    failures = 0;
                    OnAnswer(response);
                }
            }
            catch (Exception ex)
            {
                reason = ex;
            }

            lock (_gate)
            {
                _call = null;
            }

            await call.DisposeAsync().ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                break;
            }

            failures++;
            Log.KeepAliveStreamBroken(client.Logger, endpoint, reason);
            if (reason is EtcdAuthenticationException && token is not null)
            {
                await WaitQuietlyAsync(client.RenewTokenAsync(token, stopping)).ConfigureAwait(false);
            }
            else
            {
                client.Endpoints.MarkFailed(endpoint);
            }

            // Every lease is due at once on the new stream: it may have missed answers while this one died.
            foreach (var lease in Snapshot())
            {
                lease.NextKeepAlive = DateTimeOffset.MinValue;
            }

            await WaitQuietlyAsync(Task.Delay(client.Backoff(failures), client.Time, stopping)).ConfigureAwait(false);
        }
    }

    private void OnAnswer(LeaseKeepAliveResponse response)
    {
        EtcdLease? lease;
        lock (_gate)
        {
            _leases.TryGetValue(response.ID, out lease);
        }

        if (lease is null)
        {
            return;
        }

        if (response.TTL <= 0)
        {
            Lose(lease, "expired: etcd answered the keepalive with TTL <= 0 (lease not found)");
            return;
        }

        // The server's TTL counts from when it handled our request, which is after we sent it.
        lease.RecordAnswer(response.TTL);
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
