using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>The keepalive stream: connect, read answers, reconnect on another endpoint after any failure.</summary>
internal sealed partial class LeaseKeeper
{
    private async Task StreamLoopAsync()
    {
        var reconnect = EtcdRetries.BuildStream(EtcdRetries.KeepAliveName, client.Options.MaxReconnectDelay, client.Time);
        await EtcdRetries.RunStreamAsync(reconnect, StreamAsync, stopping => WaitQuietlyAsync(_wake.WaitAsync(stopping)),
            client.DisposedToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One keepalive stream: opened with the first lease's keepalive, read until it breaks. Returns null when no
    /// lease is kept alive, and the break of a stream that was answered; throws when the stream could not open or
    /// broke unanswered (the <c>etcd.keepalive.reconnect</c> pipeline then backs off, up to
    /// <see cref="EtcdClientOptions.MaxReconnectDelay"/>, so a lease survives an outage shorter than its TTL).
    /// </summary>
    private async ValueTask<Exception?> StreamAsync(CancellationToken stopping)
    {
        var first = Snapshot().FirstOrDefault();
        if (first is null)
        {
            return null;
        }

        var endpoint = client.Endpoints.Current;
        string? token = null;
        GrpcDuplexCall call;
        // A root span for the opening only (nothing per keep-alive); stopped before the stream is read.
        var opening = EtcdTracing.StartStream(KeepAlivePath, endpoint);
        try
        {
            token = await client.GetTokenAsync(stopping).ConfigureAwait(false);
            // Answers of the previous stream will never come: forget what was outstanding on it.
            foreach (var lease in Snapshot())
            {
                lease.Unanswered.Clear();
            }

            // On the clock of lease deadlines, like every other send (the ticker's).
            first.RecordSent(client.MonotonicNow);
            call = await GrpcDuplexCall.StartAsync(client.Transport, endpoint, KeepAlivePath, token, requireLeader: false,
                new LeaseKeepAliveRequest { ID = first.Id }, client.Options.ConnectTimeout, client.Time, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            EtcdTracing.Failed(opening, endpoint, 0, (ex as EtcdException)?.StatusCode ?? GrpcStatusCode.Unavailable, ex);
            // Ended here, not after the recovery's wait (ending twice is a no-op).
            opening?.Dispose();
            await RecoverAsync(endpoint, token, ex, stopping).ConfigureAwait(false);
            throw;
        }
        finally
        {
            opening?.Dispose();
        }

        lock (_gate)
        {
            _call = call;
        }

        Log.KeepAliveStreamOpened(client.Logger, endpoint);
        var answered = false;
        Exception reason;
        try
        {
            while (true)
            {
                var response = await call.ReadAsync(LeaseKeepAliveResponse.Parser, stopping).ConfigureAwait(false);
                answered = true;
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
        stopping.ThrowIfCancellationRequested();
        await RecoverAsync(endpoint, token, reason, stopping).ConfigureAwait(false);
        // Every lease is due at once on the new stream: it may have missed answers while this one died.
        foreach (var lease in Snapshot())
        {
            lease.NextKeepAlive = DateTimeOffset.MinValue;
        }

        return answered ? reason : throw new StreamBrokenException(reason);
    }

    /// <summary>After a failed stream: renew a refused token, or move on from the endpoint.</summary>
    private async Task RecoverAsync(Uri endpoint, string? token, Exception reason, CancellationToken stopping)
    {
        Log.KeepAliveStreamBroken(client.Logger, endpoint, reason);
        if (reason is EtcdAuthenticationException && token is not null)
        {
            await WaitQuietlyAsync(client.RenewTokenAsync(token, stopping)).ConfigureAwait(false);
        }
        else
        {
            client.Endpoints.MarkFailed(endpoint);
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
}
