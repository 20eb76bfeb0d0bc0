using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ControlPlane.Director.Telemetry;

/// <summary>
/// Names, labels and numbers of the Prometheus text format (0.0.4), following the OpenTelemetry-to-Prometheus
/// conventions: dots become underscores, the unit becomes a suffix (<c>s</c> → <c>_seconds</c>; annotations such
/// as <c>{job}</c> are dropped), counters end in <c>_total</c>.
/// </summary>
public static class PrometheusText
{
    /// <summary>Bucket bounds used when a histogram gives no advice: the OpenTelemetry defaults, or sub-second
    /// bounds for durations in seconds (the defaults assume milliseconds).</summary>
    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
    private static readonly double[] DefaultSecondBounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>The metric family name of an instrument.</summary>
    public static string MetricName(string instrumentName, string? unit, bool counter)
    {
        ArgumentNullException.ThrowIfNull(instrumentName);
        var name = Sanitize(instrumentName, allowColon: true);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        return counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>The label set of a measurement, rendered <c>a="x",b="y"</c> ordered by name (also the series key).</summary>
    public static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var pairs = new List<(string Name, string Value)>(tags.Length);
        foreach (var tag in tags)
        {
            var value = tag.Value switch
            {
                null => "",
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString() ?? "",
            };
            pairs.Add((Sanitize(tag.Key, allowColon: false), value));
        }

        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var text = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(name).Append("=\"").Append(EscapeLabelValue(value)).Append('"');
        }

        return text.ToString();
    }

    /// <summary>Appends one sample line; <paramref name="le"/> adds a histogram bucket's bound as the last label.</summary>
    public static void Sample(StringBuilder text, string name, string labels, string? le, double value)
    {
        ArgumentNullException.ThrowIfNull(text);
        text.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is not null)
            {
                text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>A sample value: shortest round-trip form, <c>+Inf</c>, <c>-Inf</c> or <c>NaN</c>.</summary>
    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Escapes a HELP text: backslash and line feed.</summary>
    public static string EscapeHelp(string help)
    {
        ArgumentNullException.ThrowIfNull(help);
        return help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>Escapes a label value: backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return EscapeHelp(value).Replace("\"", "\\\"", StringComparison.Ordinal);
    }

    /// <summary>The bucket bounds of a histogram: its advice, else a default for its unit.</summary>
    public static double[] HistogramBounds(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        IEnumerable<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
            _ => null,
        };
        var bounds = advised?.ToArray() ?? (instrument.Unit == "s" ? DefaultSecondBounds : DefaultBounds);
        return [.. bounds.Distinct().Order()];
    }

    private static string UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => "",
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        // Annotations such as {request} say what is counted; Prometheus names carry no unit for them.
        _ when unit.StartsWith('{') => "",
        _ => Sanitize(unit, allowColon: false),
    };

    private static string Sanitize(string name, bool allowColon)
    {
        var text = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        if (text.Length == 0 || char.IsAsciiDigit(text[0]))
        {
            text.Insert(0, '_');
        }

        return text.ToString();
    }
}
