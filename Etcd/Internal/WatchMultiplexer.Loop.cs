using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>The stream loop: open, read, and on any failure re-create every watch on another endpoint.</summary>
internal sealed partial class WatchMultiplexer
{
    private async Task RunAsync()
    {
        var resume = EtcdRetries.BuildStream(EtcdRetries.WatchResumeName, client.Options.MaxReconnectDelay, client.Time, args =>
        {
            // A stream that broke was logged when it did; this is a stream that could not open.
            if (args.Outcome.Exception is { } failure and not StreamBrokenException)
            {
                Log.WatchStreamOpenFailed(client.Logger, _opening, args.RetryDelay, failure);
            }
        });
        await EtcdRetries.RunStreamAsync(resume, StreamAsync, stopping => WaitQuietlyAsync(_wake.WaitAsync(stopping)),
            client.DisposedToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One stream: opened with the first queued create, read until it breaks, every live watch then queued again
    /// to be re-created from its resume point on the next. Returns null when there is nothing to watch, and the
    /// break of a stream that delivered something; throws when the stream could not open or broke before
    /// delivering (the <c>etcd.watch.resume</c> pipeline then backs off).
    /// </summary>
    private async ValueTask<Exception?> StreamAsync(CancellationToken stopping)
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
            return null;
        }

        var endpoint = client.Endpoints.Current;
        _opening = endpoint;
        string? token = null;
        GrpcDuplexCall call;
        // A root span for the opening only (nothing per message); stopped before the stream is read.
        var opening = EtcdTracing.StartStream(WatchPath, endpoint);
        try
        {
            token = await client.GetTokenAsync(stopping).ConfigureAwait(false);
            call = await GrpcDuplexCall.StartAsync(client.Transport, endpoint, WatchPath, token, requireLeader: true,
                first.BuildCreate(), client.Options.ConnectTimeout, client.Time, stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            EtcdTracing.Failed(opening, endpoint, 0, (ex as EtcdException)?.StatusCode ?? GrpcStatusCode.Unavailable, ex);
            Requeue();
            client.Endpoints.MarkFailed(endpoint);
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
        stopping.ThrowIfCancellationRequested();
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

        return received ? reason : throw new StreamBrokenException(reason);
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
