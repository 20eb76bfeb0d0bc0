using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ControlPlane.Client.Internal;
using Polly;

namespace ControlPlane.Client;

/// <summary>The event stream, <c>GET /v1/events</c>.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>Most retries in a row of a stream that fails before delivering any event; a stream that delivered
    /// something starts the count afresh.</summary>
    public const int MaxEventStreamRetries = 8;

    /// <summary>Most streams one <see cref="StreamEventsAsync"/> opens: a bound even for a director that ends every
    /// stream after one event.</summary>
    public const int MaxEventStreams = 100_000;

    /// <summary>The first wait before opening a stream again; it doubles with each retry, capped at
    /// <see cref="MaxEventStreamDelay"/>, each wait times a jitter factor in [0.75, 1.25) (a Polly retry on the client's
    /// <see cref="TimeProvider"/>, <c>ControlPlane.EventStream</c>: 0.5, 1, 2, 4, 8, then 10 s, each ±25 %).</summary>
    public static readonly TimeSpan FirstEventStreamDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The cap of the wait before opening a stream again, before jitter (so no wait is longer than 12.5 s).</summary>
    public static readonly TimeSpan MaxEventStreamDelay = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The events of <c>GET /v1/events</c> that match <paramref name="filter"/>, from just after revision
    /// <paramref name="after"/> (null: from now), until the caller stops enumerating or cancels. The stream is followed
    /// across directors and connection losses: when it ends or breaks (the director stopped, cut a slow reader off, the
    /// connection failed) it is opened again with <c>Last-Event-ID</c> on the directors in turn, so nothing the store
    /// still holds is missed (an event may come twice; a <c>resync</c> event says changes were lost). A stream that
    /// fails before any event is opened again after a backoff (<see cref="FirstEventStreamDelay"/>), at most
    /// <see cref="MaxEventStreamRetries"/> times in a row.
    /// </summary>
    /// <param name="filter">Which events; null for all.</param>
    /// <param name="after">Resume after this revision (an event id, or a listing's revision); null to start now.</param>
    /// <param name="progress">Told when a stream opens, is cut off, or is retried; its <c>Report</c> is called on the
    /// enumerating thread and must not throw. Null for none.</param>
    /// <param name="cancellationToken">Ends the enumeration with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ControlPlaneValidationException">A filter value is invalid (the director names it).</exception>
    /// <exception cref="ControlPlaneException">Another error answer (401, 404 from a director without the stream); for
    /// 502/503/504 or no director reachable, only after the retries.</exception>
    /// <exception cref="ControlPlaneEventStreamException">A director answered with something that is not an event stream,
    /// or streams kept failing before any event.</exception>
    public IAsyncEnumerable<ControlPlaneEvent> StreamEventsAsync(
        EventFilter? filter = null, long? after = null, IProgress<EventStreamProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FollowAsync((filter ?? new EventFilter()).ToPath(), after, progress, cancellationToken);

    private async IAsyncEnumerable<ControlPlaneEvent> FollowAsync(
        string path, long? after, IProgress<EventStreamProgress>? progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = $"GET /{path}";
        var lastId = after;
        for (var streams = 0; streams < MaxEventStreams; streams++)
        {
            // One outage: streams are opened (with the pipeline's pauses between them) until one delivers an event.
            var (reader, first) = await OpenDeliveringAsync(call, path, lastId, progress, cancellationToken).ConfigureAwait(false);
            using (reader)
            {
                lastId = first.Id ?? lastId;
                yield return first;
                // No yield inside a try with a catch: each read returns the failure instead of throwing it. Whatever
                // ends a stream that delivered, the next one is opened at once (its failures start a new outage).
                while (true)
                {
                    var (next, broken) = await NextEventAsync(reader, cancellationToken).ConfigureAwait(false);
                    if (broken is not null || next is null)
                    {
                        break;
                    }

                    if (next.Type == "cutoff")
                    {
                        progress?.Report(new(EventStreamProgressKind.CutOff, call, reader.Director, lastId, ReasonOf(next.Data), TimeSpan.Zero, 0));
                        break;
                    }

                    lastId = next.Id ?? lastId;
                    yield return next;
                }
            }
        }

        throw new ControlPlaneEventStreamException($"{call}: the event stream ended {MaxEventStreams} times; giving up");
    }

    /// <summary>
    /// Opens the stream and reads up to its first event, again after each failure through the
    /// <c>ControlPlane.EventStream</c> pipeline (<see cref="EventStreamRetries"/>), until a stream delivers; the stream is
    /// then the caller's to read on and dispose.
    /// </summary>
    /// <exception cref="ControlPlaneEventStreamException">Streams kept failing before any event (after
    /// <see cref="MaxEventStreamRetries"/> retries), or a director answered with something that is not a stream.</exception>
    private async Task<(SseReader Reader, ControlPlaneEvent First)> OpenDeliveringAsync(
        string call, string path, long? lastId, IProgress<EventStreamProgress>? progress, CancellationToken cancellationToken)
    {
        var attempt = new StreamAttempt(this, call, path, lastId, progress);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StreamAttempt.Key, attempt);
        try
        {
            return await _eventStreamRetries.ExecuteAsync(static (context, attempt) => attempt.OpenAsync(context.CancellationToken), context, attempt)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            // The pipeline gave up: the last failure, in the client's own terms.
            throw e is ControlPlaneException known
                ? known
                : new ControlPlaneEventStreamException($"{call}: {e.Message} ({MaxEventStreamRetries} retries in a row)", attempt.Director, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Reports a pause of the event stream pipeline to the caller's progress.</summary>
    private static void OnEventStreamRetry(ResilienceContext context, int retry, TimeSpan delay, Exception failure) =>
        context.Properties.GetValue(StreamAttempt.Key, null!)?.OnRetry(retry, delay, failure);

    /// <summary>Opens the stream on the first director that serves it (the failover handler walks them; the attempt
    /// timeout covers the answer's start only, the stream itself may stay open for hours).</summary>
    private async Task<SseReader> OpenEventsAsync(string call, string path, long? lastEventId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_directors.Preferred, path));
        Mark(message, path, repeatable: true);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            message.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var director = DirectorOf(response);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                throw ErrorMapper.ToException(call, response, body, director);
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                var type = response.Content.Headers.ContentType?.MediaType ?? "no content type";
                throw new ControlPlaneEventStreamException($"{director} answered {call} with {type}, not an event stream", director);
            }

            return new SseReader(director, response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task<(ControlPlaneEvent? Event, Exception? Broken)> NextEventAsync(SseReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return (await reader.NextAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            return (null, e);
        }
    }

    /// <summary>Failures worth opening the stream again for: nothing answered, a director could not serve, the
    /// connection broke.</summary>
    private static bool IsTransient(Exception e) =>
        e is ControlPlaneUnreachableException or ControlPlaneUnavailableException or IOException or HttpRequestException;

    private static string ReasonOf(string data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String
                ? reason.GetString()!
                : "no reason given";
        }
        catch (JsonException)
        {
            return "no reason given";
        }
    }
}
