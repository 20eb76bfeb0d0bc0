using System.Buffers;
using System.Globalization;

namespace ControlPlane.Director.Events;

/// <summary>Writes one subscription as <c>text/event-stream</c> until the client leaves or the hub cuts it off.</summary>
internal sealed class EventStreamResult(EventSubscription subscription, EventHub hub, TimeSpan keepAlive, TimeProvider time) : IResult
{
    /// <summary>How long the final <c>cutoff</c> event may take to leave; a client that reads nothing gets none.</summary>
    private static readonly TimeSpan CutoffWriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries written between two flushes at most, so a large backlog still goes out steadily.</summary>
    private const int FlushEvery = 256;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var owned = subscription;
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // nginx buffers proxied responses unless told not to: an event would wait for the buffer to fill.
        response.Headers["X-Accel-Buffering"] = "no";
        var writer = response.BodyWriter;
        // A cut-off subscriber may be blocked in a flush to a client that reads nothing: release it at once.
        using var release = subscription.CutToken.Register(() => writer.CancelPendingFlush());
        SseFormat.Comment(writer, string.Create(CultureInfo.InvariantCulture, $"events from revision {hub.Revision}"));
        try
        {
            if (!await FlushAsync(writer, aborted).ConfigureAwait(false))
            {
                await CutoffAsync(writer).ConfigureAwait(false);
                return;
            }

            var written = 0;
            foreach (var delivery in subscription.Backlog)
            {
                SseFormat.Write(writer, delivery);
                if (++written % FlushEvery == 0 && !await FlushAsync(writer, aborted).ConfigureAwait(false))
                {
                    await CutoffAsync(writer).ConfigureAwait(false);
                    return;
                }
            }

            subscription.Backlog.Clear();
            var reader = subscription.Reader;
            // Kept across keepalives: an idle stream waits on one read, not on one more per interval.
            Task<bool>? waiting = null;
            while (true)
            {
                written = 0;
                while (written < FlushEvery && reader.TryRead(out var delivery))
                {
                    SseFormat.Write(writer, delivery);
                    written++;
                }

                if (written > 0 && !await FlushAsync(writer, aborted).ConfigureAwait(false))
                {
                    break;
                }

                if (written == FlushEvery)
                {
                    continue;
                }

                bool more;
                try
                {
                    waiting ??= reader.WaitToReadAsync(aborted).AsTask();
                    more = await waiting.WaitAsync(keepAlive, time, aborted).ConfigureAwait(false);
                    waiting = null;
                }
                catch (TimeoutException)
                {
                    writer.Write(SseFormat.KeepAlive);
                    if (!await FlushAsync(writer, aborted).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                if (!more)
                {
                    break;
                }
            }

            await CutoffAsync(writer).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left.
        }
    }

    /// <summary>Flushes; false when the flush was released because the subscriber was cut off.</summary>
    private static async Task<bool> FlushAsync(System.IO.Pipelines.PipeWriter writer, CancellationToken aborted)
    {
        var result = await writer.FlushAsync(aborted).ConfigureAwait(false);
        return !result.IsCanceled && !result.IsCompleted;
    }

    /// <summary>Sends the <c>cutoff</c> event when the hub ended the stream, within a bounded time.</summary>
    private async Task CutoffAsync(System.IO.Pipelines.PipeWriter writer)
    {
        if (subscription.CutoffReason is not { } reason)
        {
            return;
        }

        using var limit = new CancellationTokenSource(CutoffWriteTimeout, time);
        try
        {
            writer.Write(EventHub.Cutoff(reason));
            await writer.FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client reads nothing: it will see the connection end instead.
        }
    }
}
