using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ControlPlane.Client.Internal;

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

    /// <summary>The first wait before opening a stream again; it doubles with each retry, with jitter.</summary>
    public static readonly TimeSpan FirstEventStreamDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait before opening a stream again.</summary>
    public static readonly TimeSpan MaxEventStreamDelay = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The events of <c>GET /v1/events</c> that match <paramref name="filter"/>, from just after revision
    /// <paramref name="after"/> (null: from now), until the caller stops enumerating or cancels. The stream is followed
    /// across directors and connection losses: when it ends or breaks (the director stopped, cut a slow reader off, the
    /// connection failed) it is opened again with <c>Last-Event-ID</c> on the directors in turn, so nothing the store
    /// still holds is missed (an event may come twice; a <c>resync</c> event says changes were lost). A stream that
    /// fails before any event is opened again after a backoff, at most <see cref="MaxEventStreamRetries"/> times in a row.
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
        var retries = 0;
        for (var streams = 0; streams < MaxEventStreams; streams++)
        {
            Exception? failure = null;
            SseReader? reader = null;
            try
            {
                reader = await OpenEventsAsync(call, path, lastId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                failure = e;
            }

            if (reader is not null)
            {
                progress?.Report(new(EventStreamProgressKind.Opened, call, reader.Director, lastId, null, TimeSpan.Zero, 0));
                var delivered = false;
                using (reader)
                {
                    // No yield inside a try with a catch: each read returns the failure instead of throwing it.
                    while (true)
                    {
                        var (next, broken) = await NextEventAsync(reader, cancellationToken).ConfigureAwait(false);
                        if (broken is not null || next is null)
                        {
                            failure = delivered ? null : broken ?? new IOException($"the event stream from {reader.Director} ended before any event");
                            break;
                        }

                        if (next.Type == "cutoff")
                        {
                            var reason = ReasonOf(next.Data);
                            progress?.Report(new(EventStreamProgressKind.CutOff, call, reader.Director, lastId, reason, TimeSpan.Zero, 0));
                            failure = delivered ? null : new IOException($"the event stream from {reader.Director} was cut off before any event: {reason}");
                            break;
                        }

                        delivered = true;
                        lastId = next.Id ?? lastId;
                        yield return next;
                    }
                }

                if (delivered)
                {
                    retries = 0;
                    continue;
                }
            }

            retries++;
            if (retries > MaxEventStreamRetries)
            {
                throw failure is ControlPlaneException known
                    ? known
                    : new ControlPlaneEventStreamException($"{call}: {failure!.Message} ({MaxEventStreamRetries} retries in a row)", reader?.Director, failure);
            }

            var delay = EventStreamDelay(retries);
            progress?.Report(new(EventStreamProgressKind.Retrying, call, reader?.Director, lastId, failure!.Message, delay, retries));
            await DelayAsync(delay, cancellationToken).ConfigureAwait(false);
        }

        throw new ControlPlaneEventStreamException($"{call}: the event stream ended {MaxEventStreams} times; giving up");
    }

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

    /// <summary>Exponential from <see cref="FirstEventStreamDelay"/>, capped at <see cref="MaxEventStreamDelay"/>, with
    /// ±25 % jitter so many clients do not come back in the same instant.</summary>
    private static TimeSpan EventStreamDelay(int retry)
    {
        var exponential = FirstEventStreamDelay * Math.Pow(2, Math.Min(retry - 1, 16));
        var capped = exponential < MaxEventStreamDelay ? exponential : MaxEventStreamDelay;
        return capped * (0.75 + (Random.Shared.NextDouble() / 2));
    }

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
