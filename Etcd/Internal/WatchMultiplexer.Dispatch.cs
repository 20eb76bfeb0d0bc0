using System.Threading.Channels;
using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd.Internal;

/// <summary>Routing of watch responses: acknowledgements, events, progress, cancellations, fragments.</summary>
internal sealed partial class WatchMultiplexer
{
    private async Task HandleAsync(WatchResponse response, CancellationToken stopping)
    {
        if (response.Created)
        {
            await HandleCreatedAsync(response).ConfigureAwait(false);
            return;
        }

        if (response.WatchId == -1 && response.Events.Count == 0)
        {
            // A progress notification for the whole stream (answer to a progress request).
            List<Watcher> all;
            lock (_gate)
            {
                all = [.. _active.Values];
            }

            foreach (var watcher in all)
            {
                await DeliverProgressAsync(watcher, response, stopping).ConfigureAwait(false);
            }

            return;
        }

        Watcher? target;
        lock (_gate)
        {
            _active.TryGetValue(response.WatchId, out target);
        }

        if (target is null)
        {
            return; // canceled by the caller; the server's late responses are dropped
        }

        if (response.Canceled)
        {
            lock (_gate)
            {
                _active.Remove(response.WatchId);
            }

            target.End(CancelReason(target, response));
            return;
        }

        var fresh = target.Accept(response.Events, response.Fragment);
        if (fresh is null)
        {
            return; // more fragments to come
        }

        if (response.Events.Count == 0 && fresh.Count == 0 && !response.Fragment)
        {
            await DeliverProgressAsync(target, response, stopping).ConfigureAwait(false);
            return;
        }

        if (fresh.Count > 0)
        {
            await DeliverAsync(target, new EtcdWatchBatch(response.Header.Revision, response.Header.MemberId, fresh), stopping)
                .ConfigureAwait(false);
        }
    }

    private async Task HandleCreatedAsync(WatchResponse response)
    {
        Watcher? watcher;
        lock (_gate)
        {
            watcher = _creating;
            _creating = null;
        }

        if (watcher is null)
        {
            return;
        }

        if (response.Canceled && response.CompactRevision > 0)
        {
            // The start revision is already compacted: acknowledge, then end the watch with the distinct signal.
            watcher.Created.TrySetResult();
            watcher.End(CancelReason(watcher, response));
        }
        else if (response.WatchId == -1 || response.Canceled)
        {
            if (client.Options.Username is not null && watcher.AuthRetries < 2 && MayBeStaleToken(response.CancelReason))
            {
                // The stream's token (sent when it opened) is no longer valid; etcd 3.4 says "invalid auth token"
                // or just "permission denied". Renew, then re-create every watch on a stream with the new token.
                watcher.AuthRetries++;
                lock (_gate)
                {
                    _creating = watcher;
                }

                throw new EtcdAuthenticationException($"watch create refused: {response.CancelReason}");
            }

            Log.WatchEnded(client.Logger, watcher.KeyText, response.CancelReason);
            var code = response.CancelReason.Contains("permission denied", StringComparison.Ordinal)
                ? GrpcStatusCode.PermissionDenied
                : GrpcStatusCode.FailedPrecondition;
            watcher.End(new EtcdException(code, $"watch on '{watcher.KeyText}' refused: {response.CancelReason}"));
        }
        else
        {
            watcher.OnCreated(response.WatchId, response.Header.Revision);

            Log.WatchCreated(client.Logger, response.WatchId, watcher.KeyText, response.Header.Revision, watcher.NextRevision);
            bool cancelNow;
            lock (_gate)
            {
                cancelNow = watcher.Canceled;
                if (!cancelNow)
                {
                    _active[response.WatchId] = watcher;
                }
            }

            watcher.Created.TrySetResult();
            if (cancelNow && _call is { } call)
            {
                await TryWriteAsync(call, new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = response.WatchId } })
                    .ConfigureAwait(false);
            }
        }

        await PumpCreatesAsync().ConfigureAwait(false);
    }

    private static bool MayBeStaleToken(string reason) =>
        reason.Contains("invalid auth token", StringComparison.Ordinal)
        || reason.Contains("Unauthenticated", StringComparison.Ordinal)
        || reason.Contains("permission denied", StringComparison.Ordinal);

    private Exception CancelReason(Watcher watcher, WatchResponse response)
    {
        if (response.CompactRevision > 0)
        {
            Log.WatchCompacted(client.Logger, watcher.KeyText, response.CompactRevision);
            return new EtcdCompactedException(
                $"watch on '{watcher.KeyText}' from revision {watcher.NextRevision} is compacted (compact revision {response.CompactRevision}); re-list and watch again",
                response.CompactRevision);
        }

        Log.WatchEnded(client.Logger, watcher.KeyText, response.CancelReason);
        return new EtcdException(GrpcStatusCode.Cancelled, $"watch on '{watcher.KeyText}' canceled by the server: {response.CancelReason}");
    }

    private static Task DeliverProgressAsync(Watcher watcher, WatchResponse response, CancellationToken stopping)
    {
        // Progress means "nothing left below this revision" for this watch, so it also moves the resume point.
        watcher.OnProgress(response.Header.Revision);
        return DeliverAsync(watcher, new EtcdWatchBatch(response.Header.Revision, response.Header.MemberId, []), stopping);
    }

    private static async Task DeliverAsync(Watcher watcher, EtcdWatchBatch batch, CancellationToken stopping)
    {
        try
        {
            await watcher.Events.Writer.WriteAsync(batch, stopping).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The caller disposed the watch while we were delivering.
        }
    }
}
