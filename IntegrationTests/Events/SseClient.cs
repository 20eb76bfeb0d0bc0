using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>One event read from <c>GET /v1/events</c>.</summary>
/// <param name="Id">The <c>id:</c> field, when the event carried one.</param>
/// <param name="Type">The <c>event:</c> field.</param>
/// <param name="Data">The parsed <c>data:</c> JSON.</param>
public sealed record SseEvent(long? Id, string Type, JsonElement Data)
{
    /// <summary>The data's <c>revision</c> (absent on cutoff).</summary>
    public long Revision => Data.TryGetProperty("revision", out var r) ? r.GetInt64() : 0;

    /// <summary>The data's <c>id</c>.</summary>
    public string? Key => Data.TryGetProperty("id", out var i) ? i.GetString() : null;

    /// <summary>The job's state, for a job event that is not a deletion.</summary>
    public string? JobState => Data.TryGetProperty("job", out var j) ? j.GetProperty("state").GetString() : null;
}

/// <summary>A minimal Server-Sent Events reader for tests: parses fields line by line, as the WHATWG algorithm does
/// for the subset the director sends (id, event, one data line, comments).</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private readonly bool _ownsResponse;

    private SseClient(HttpResponseMessage response, Stream body, bool ownsResponse = true)
    {
        _response = response;
        _ownsResponse = ownsResponse;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    /// <summary>The last id seen, as a browser's <c>EventSource</c> keeps it.</summary>
    public long? LastEventId { get; private set; }

    /// <summary>Opens a stream; fails the test unless the director answers 200 text/event-stream.</summary>
    public static async Task<SseClient> OpenAsync(HttpClient client, string query = "", long? lastEventId = null, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(client, query, lastEventId, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new Xunit.Sdk.XunitException($"GET /v1/events{query} answered {(int)response.StatusCode}: {text}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("no", Assert.Single(response.Headers.GetValues("X-Accel-Buffering")));
        return new SseClient(response, await response.Content.ReadAsStreamAsync(cancellationToken)) { LastEventId = lastEventId };
    }

    /// <summary>Reads the stream of a response sent with <see cref="SendAsync"/>; the caller still disposes the response.</summary>
    public static async Task<SseClient> FromResponseAsync(HttpResponseMessage response) =>
        new(response, await response.Content.ReadAsStreamAsync(), ownsResponse: false);

    /// <summary>Sends the request and returns the response as soon as its headers are in (the body is a stream).</summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string query = "", long? lastEventId = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events" + query);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>The next event; null when the stream ended (or broke).</summary>
    public async Task<SseEvent?> NextAsync(CancellationToken cancellationToken)
    {
        long? id = null;
        string? type = null;
        string? data = null;
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(cancellationToken);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException)
            {
                return null; // the director went away mid-stream
            }

            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (data is null)
                {
                    id = null;
                    type = null;
                    continue; // a comment block (keepalive) or an empty event: nothing to dispatch
                }

                if (id is not null)
                {
                    LastEventId = id;
                }

                using var document = JsonDocument.Parse(data);
                return new SseEvent(id, type ?? "message", document.RootElement.Clone());
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    Assert.Null(data); // the director sends one data line per event
                    data = value;
                    break;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        if (_ownsResponse)
        {
            _response.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
