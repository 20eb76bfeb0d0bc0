using ControlPlane.Client.Internal;
using Polly;

namespace ControlPlane.Client;

/// <summary>The attempts of one event-stream outage, run by the <c>ControlPlane.EventStream</c> pipeline.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>
    /// Opens the stream and reads its first event; a stream that fails, ends or is cut off before one is a failed
    /// attempt (thrown, so the pipeline pauses and tries again). Remembers the director of the latest attempt for the
    /// progress reports and the final exception.
    /// </summary>
    private sealed class StreamAttempt(
        ControlPlaneClient client, string call, string path, long? lastId, IProgress<EventStreamProgress>? progress)
    {
        /// <summary>Where the pipeline's retry callback finds the outage it pauses.</summary>
        public static readonly ResiliencePropertyKey<StreamAttempt?> Key = new("ControlPlane.EventStream.attempt");

        /// <summary>The director of the latest attempt; null when none answered it.</summary>
        public Uri? Director { get; private set; }

        public async ValueTask<(SseReader Reader, ControlPlaneEvent First)> OpenAsync(CancellationToken cancellationToken)
        {
            Director = null;
            var reader = await client.OpenEventsAsync(call, path, lastId, cancellationToken).ConfigureAwait(false);
            Director = reader.Director;
            progress?.Report(new(EventStreamProgressKind.Opened, call, reader.Director, lastId, null, TimeSpan.Zero, 0));
            try
            {
                var first = await reader.NextAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new IOException($"the event stream from {reader.Director} ended before any event");
                if (first.Type == "cutoff")
                {
                    var reason = ReasonOf(first.Data);
                    progress?.Report(new(EventStreamProgressKind.CutOff, call, reader.Director, lastId, reason, TimeSpan.Zero, 0));
                    throw new IOException($"the event stream from {reader.Director} was cut off before any event: {reason}");
                }

                return (reader, first);
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        public void OnRetry(int retry, TimeSpan delay, Exception failure) =>
            progress?.Report(new(EventStreamProgressKind.Retrying, call, Director, lastId, failure.Message, delay, retry));
    }
}
