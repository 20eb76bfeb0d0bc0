using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ControlPlane.Cli.Events;

/// <summary>One event of <c>GET /v1/events</c> (wire format in docs/api.md).</summary>
/// <param name="Id">The <c>id:</c> field (the store revision), when the event carried one.</param>
/// <param name="Type">The <c>event:</c> field: job, worker, leader, schedule, resync or cutoff.</param>
/// <param name="Data">The <c>data:</c> line as sent (one line of JSON).</param>
internal sealed record StreamedEvent(long? Id, string Type, string Data)
{
    /// <summary>The data, parsed; null when it is not a JSON object.</summary>
    public JsonObject? Json => JsonNode.Parse(Data) as JsonObject;
}

/// <summary>The stream of one director didn't behave as one (wrong content type).</summary>
internal sealed class EventStreamUnavailableException(string message) : Exception(message);

/// <summary>An open event stream: reads events as the Server-Sent Events format defines them (fields per line, a blank
/// line ends an event, comments ignored), for the subset directors send.</summary>
internal sealed class EventStream(Uri director, HttpResponseMessage response, Stream body) : IDisposable
{
    private readonly StreamReader _reader = new(body, Encoding.UTF8);

    /// <summary>The director serving it.</summary>
    public Uri Director { get; } = director;

    /// <summary>The next event; null when the stream ended. Throws <see cref="IOException"/> or
    /// <see cref="HttpRequestException"/> when the connection broke.</summary>
    public async Task<StreamedEvent?> NextAsync(CancellationToken cancellationToken)
    {
        long? id = null;
        string? type = null;
        var data = new StringBuilder();
        var hasData = false;
        // One event is a few lines; the bound only stops a peer that sends endless fields without a blank line.
        for (var lines = 0; lines < 10_000; lines++)
        {
            var line = await _reader.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (hasData)
                {
                    return new StreamedEvent(id, type ?? "message", data.ToString());
                }

                id = null;
                type = null;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            value = value.StartsWith(' ') ? value[1..] : value;
            switch (field)
            {
                case "id" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed):
                    id = parsed;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    hasData = true;
                    break;
            }
        }

        throw new IOException("The event stream sent 10,000 lines without ending an event.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _reader.Dispose();
        response.Dispose();
    }
}
