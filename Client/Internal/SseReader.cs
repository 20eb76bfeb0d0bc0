using System.Globalization;
using System.Text;

namespace ControlPlane.Client.Internal;

/// <summary>An open event stream: reads events as the Server-Sent Events format defines them (fields per line, a blank
/// line ends an event, comments ignored), for the subset directors send.</summary>
internal sealed class SseReader(Uri director, HttpResponseMessage response, Stream body) : IDisposable
{
    /// <summary>Most lines one event may take: a bound against a peer that never ends an event.</summary>
    public const int MaxLinesPerEvent = 10_000;

    private readonly StreamReader _reader = new(body, Encoding.UTF8);

    public Uri Director { get; } = director;

    /// <summary>The next event; null when the stream ended. Throws <see cref="IOException"/> or
    /// <see cref="HttpRequestException"/> when the connection broke.</summary>
    public async Task<ControlPlaneEvent?> NextAsync(CancellationToken cancellationToken)
    {
        long? id = null;
        string? type = null;
        var data = new StringBuilder();
        var hasData = false;
        for (var lines = 0; lines < MaxLinesPerEvent; lines++)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (hasData)
                {
                    return new ControlPlaneEvent(id, type ?? "message", data.ToString(), Director);
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

    public void Dispose()
    {
        _reader.Dispose();
        response.Dispose();
    }
}
