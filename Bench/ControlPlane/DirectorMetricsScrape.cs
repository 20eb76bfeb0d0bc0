using System.Globalization;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>Reads a director's <c>/metrics</c> (Prometheus text) into name → value, summed over label sets, so a
/// scenario can report what the leader did (passes, time in passes, pending jobs) beside its own figures.</summary>
internal static class DirectorMetricsScrape
{
    /// <param name="director">The director.</param>
    /// <param name="mustContain">When given, only series whose line contains it (e.g. <c>POST</c>, a label value).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static async Task<Dictionary<string, double>> ScrapeAsync(DirectorProcess director, string? mustContain, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            var text = await director.Client.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#' || (mustContain is not null && !line.Contains(mustContain, StringComparison.Ordinal)))
                {
                    continue;
                }

                // "name{labels} value" or "name value".
                var space = line.LastIndexOf(' ');
                var brace = line.IndexOf('{', StringComparison.Ordinal);
                var name = line[..(brace >= 0 && brace < space ? brace : space)];
                if (double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    values[name] = values.GetValueOrDefault(name) + value;
                }
            }
        }
        catch (HttpRequestException)
        {
            // A director that is gone has no metrics: an empty result.
        }

        return values;
    }
}
