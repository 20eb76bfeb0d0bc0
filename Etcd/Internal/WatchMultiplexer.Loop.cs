using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>The stream loop: open, read, and on any failure re-create every watch on another endpoint.</summary>
internal sealed partial class WatchMultiplexer
{
    private async Task RunAsync()
    {
        var stopping = client.DisposedToken;
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            Watcher? first;
            lock (_gate)
            {
                while (_pending.First is { Value.Canceled: true })
                {
                    _pending.RemoveFirst();
                }

                first = _pending.First?.Value;
                if (first is not null)
                {
                    _pending.RemoveFirst();
                    _creating = first;
                }
            }

            if (first is null)
            {
                // Nothing to watch: no stream until someone adds a watch (etcd needs a first message anyway).
                await WaitQuietlyAsync(_wake.WaitAsync(stopping)).ConfigureAwait(false);
                continue;
            }

            var endpoint = client.Endpoints.Current;
            string? token = null;
            GrpcDuplexCall call;
            try
            {
                token = await client.GetTokenAsync(stopping).ConfigureAwait(false);
                call = await GrpcDuplexCall.StartAsync(client.Transport, endpoint, WatchPath, token, requireLeader: true,
                    first.BuildCreate(), client.Options.ConnectTimeout, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                Requeue();
                failures++;
                client.Endpoints.MarkFailed(endpoint);
                var delay = client.Backoff(failures);
                Log.WatchStreamOpenFailed(client.Logger, endpoint, delay, ex);
                await WaitQuietlyAsync(Task.Delay(delay, client.Time, stopping)).ConfigureAwait(false);
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

            Log.WatchStreamOpened(client.Logger, endpoint);
            var received = false;
            Exception reason;
            try
            {
                while (true)
                {
                    var response = await call.ReadAsync(WatchResponse.Parser, stopping).ConfigureAwait(false);
                    received = true;
                    await HandleAsync(response, stopping).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                reason = ex;
            }

            int count;
            lock (_gate)
            {
                _call = null;
                count = Requeue();
            }

            await call.DisposeAsync().ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                break;
            }

            EtcdMetrics.RecordWatchResume(endpoint);
            Log.WatchStreamBroken(client.Logger, endpoint, count, reason);
            if (reason is EtcdAuthenticationException && token is not null)
            {
                // A create refused for an expired token: renew it, then re-create on the same stream logic.
                await WaitQuietlyAsync(client.RenewTokenAsync(token, stopping)).ConfigureAwait(false);
            }
            else
            {
                client.Endpoints.MarkFailed(endpoint);
            }

            failures = received ? 1 : failures + 1;
            await WaitQuietlyAsync(Task.Delay(client.Backoff(failures), client.Time, stopping)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Puts every live watch back in the create queue (in-flight create first), forgetting server ids: the next
    /// stream creates them again from their <see cref="Watcher.NextRevision"/>. Caller holds the lock or owns state.
    /// </summary>
    private int Requeue()
    {
        lock (_gate)
        {
            var live = _active.Values.Where(w => !w.Canceled).ToList();
            _active.Clear();
            foreach (var watcher in Enumerable.Reverse(live))
            {
                watcher.OnStreamLost();
                _pending.AddFirst(watcher);
            }

            if (_creating is { Canceled: false } creating)
            {
                creating.OnStreamLost();
                _pending.AddFirst(creating);
            }

            _creating = null;
            return _pending.Count;
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
            // Shutdown or a failed renewal: the loop condition / the next attempt decides what happens.
        }
    }
}
