using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>The keepalive stream: connect, read answers, reconnect on another endpoint after any failure.</summary>
internal sealed partial class LeaseKeeper
{
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
}
