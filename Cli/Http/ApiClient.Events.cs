using System.Globalization;
using System.Net;
using ControlPlane.Cli.Events;

namespace ControlPlane.Cli.Http;

/// <summary><c>GET /v1/events</c>: opening the stream on the first director that serves it.</summary>
internal sealed partial class ApiClient
{
    /// <summary>
    /// Opens the event stream with <paramref name="query"/> (e.g. <c>?type=job</c>) on the directors in turn, starting
    /// with the one that answered last, resuming after <paramref name="lastEventId"/>. A director that cannot be reached
    /// or answers 502/503/504 (not ready, too many streams) is passed over; any other error answer is the answer.
    /// </summary>
    /// <exception cref="ApiException">A director refused the request (400 for a bad filter, 401, 404 on a director
    /// without the stream), or every director answered 502/503/504 (the last such answer).</exception>
    /// <exception cref="DirectorsUnreachableException">No director could be reached.</exception>
    public async Task<EventStream> OpenEventsAsync(string query, long? lastEventId, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        ApiException? unavailable = null;
        Exception? lastFailure = null;
        for (var i = 0; i < directors.Length; i++)
        {
            var index = (preferred + i) % directors.Length;
            var director = directors[index];
            using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(director, "v1/events" + query));
            message.Headers.Accept.ParseAdd("text/event-stream");
            if (lastEventId is { } id)
            {
                message.Headers.TryAddWithoutValidation("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
            }

            HttpResponseMessage response;
            try
            {
                // Headers only: the timeout covers the answer's start, the stream itself may stay open for hours.
                response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{director} ({e.Message})");
                lastFailure = e;
                await SayAsync($"GET /v1/events: {director} failed ({e.Message})");
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                var error = new ApiException(response.StatusCode, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", ApiProblem.TryParse(body), RetryAfterOf(response));
                response.Dispose();
                if (response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                {
                    unavailable = error;
                    failures.Add($"{director} ({(int)response.StatusCode} {error.Problem?.Title ?? error.Message})");
                    await SayAsync($"GET /v1/events: {director} answered {(int)response.StatusCode}");
                    continue;
                }

                throw error;
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                // Something answered, but not a director's stream (an older director, a proxy's page).
                var type = response.Content.Headers.ContentType?.MediaType ?? "no content type";
                response.Dispose();
                throw new EventStreamUnavailableException($"{director} answered GET /v1/events with {type}, not an event stream");
            }

            preferred = index;
            await SayAsync($"GET /v1/events{query} streaming from {director}" + (lastEventId is { } from ? $" after revision {from}" : ""));
            return new EventStream(director, response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }

        if (unavailable is not null)
        {
            throw unavailable;
        }

        throw new DirectorsUnreachableException("cannot reach any director for the event stream: " + string.Join("; ", failures), lastFailure!);
    }
}
