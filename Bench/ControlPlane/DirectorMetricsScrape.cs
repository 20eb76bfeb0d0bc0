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

    /// <summary>The leader's pass-duration histogram (<c>controlplane.scheduler.pass.duration</c>): cumulative count
    /// per upper bound (seconds).</summary>
    public static Task<SortedDictionary<double, double>> PassBucketsAsync(DirectorProcess director, CancellationToken cancellationToken) =>
        BucketsAsync(director, "controlplane_scheduler_pass_duration_seconds", cancellationToken);

    /// <summary>A histogram's cumulative count per upper bound (+Inf included), from its <c>&lt;name&gt;_bucket</c> series.</summary>
    public static async Task<SortedDictionary<double, double>> BucketsAsync(DirectorProcess director, string name, CancellationToken cancellationToken)
    {
        var buckets = new SortedDictionary<double, double>();
        var text = await director.Client.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var prefix = name + "_bucket{";
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var le = line.IndexOf("le=\"", StringComparison.Ordinal) + 4;
            var bound = line[le..line.IndexOf('"', le)];
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            buckets[bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture)] = value;
        }

        return buckets;
    }

    /// <summary>The upper bound (in the histogram's unit × <paramref name="scale"/>; 1,000 turns seconds into ms) under
    /// which <paramref name="quantile"/> of the observations between two readings fell, and how many there were.</summary>
    public static (double? Bound, long Count) Quantile(SortedDictionary<double, double> before, SortedDictionary<double, double> after, double quantile, double scale = 1000)
    {
        var total = after.GetValueOrDefault(double.PositiveInfinity) - before.GetValueOrDefault(double.PositiveInfinity);
        if (total <= 0)
        {
            return (null, 0);
        }

        foreach (var (bound, count) in after)
        {
            if (count - before.GetValueOrDefault(bound) >= quantile * total)
            {
                return (double.IsPositiveInfinity(bound) ? null : bound * scale, (long)total);
            }
        }

        return (null, (long)total);
    }
}
