using System.Globalization;
using System.Text;

namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>One sample of a Prometheus text exposition: <c>name{label="value",…} value</c>.</summary>
/// <param name="Name">The sample's name (a histogram's end in <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</param>
/// <param name="Labels">Its labels, unescaped.</param>
/// <param name="Value">Its value.</param>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A parsed <c>/metrics</c> answer (Prometheus text format 0.0.4), for tests to ask about series rather than
/// grep lines whose exact spelling (label order, <c>{}</c> on unlabelled series) belongs to the exporter.</summary>
public sealed class MetricsScrape
{
    private MetricsScrape(IReadOnlyDictionary<string, string> types, IReadOnlyList<MetricSample> samples)
    {
        Types = types;
        Samples = samples;
    }

    /// <summary>Family name → type (<c>counter</c>, <c>gauge</c>, <c>histogram</c>…), from the <c># TYPE</c> lines.</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    /// <summary>Every sample, in the order written.</summary>
    public IReadOnlyList<MetricSample> Samples { get; }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">A line is not a comment, blank or a sample.</exception>
    public static MetricsScrape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<MetricSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                samples.Add(ParseSample(line));
            }
        }

        return new MetricsScrape(types, samples);
    }

    /// <summary>True when family <paramref name="family"/> has at least one sample (a histogram's through its
    /// <c>_bucket</c>/<c>_sum</c>/<c>_count</c> samples).</summary>
    public bool Has(string family) =>
        Types.ContainsKey(family)
        && Samples.Any(s => s.Name == family || s.Name == family + "_bucket" || s.Name == family + "_sum" || s.Name == family + "_count");

    /// <summary>The value of the sample named <paramref name="name"/> whose labels include all of
    /// <paramref name="labels"/> (<c>("route", "/v1/jobs")</c>…); null when there is none, an error when several match.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels)
    {
        var matches = Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0].Value,
            _ => throw new InvalidOperationException($"{matches.Count} samples of {name} match {string.Join(",", labels)}: say which."),
        };
    }

    /// <summary>The sum over every sample named <paramref name="name"/> (0 when there is none).</summary>
    public double Sum(string name) => Samples.Where(s => s.Name == name).Sum(s => s.Value);

    private static MetricSample ParseSample(string line)
    {
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string name;
        int rest;
        if (brace >= 0 && (space < 0 || brace < space))
        {
            name = line[..brace];
            rest = ParseLabels(line, brace + 1, labels);
        }
        else
        {
            name = space < 0 ? throw new FormatException($"Not a sample: '{line}'.") : line[..space];
            rest = space;
        }

        // "value" or "value timestamp".
        var fields = line[rest..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is 0 or > 2)
        {
            throw new FormatException($"Not a sample: '{line}'.");
        }

        var value = fields[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new MetricSample(name, labels, value);
    }

    /// <summary>Reads <c>a="x",b="y"}</c> from <paramref name="start"/>; returns the index after the closing brace.</summary>
    private static int ParseLabels(string line, int start, Dictionary<string, string> labels)
    {
        var i = start;
        // Each round reads one label: bounded by the line's length.
        while (i < line.Length && line[i] != '}')
        {
            var equals = line.IndexOf('=', i);
            if (equals < 0 || equals + 1 >= line.Length || line[equals + 1] != '"')
            {
                throw new FormatException($"Bad labels in '{line}'.");
            }

            var key = line[i..equals].TrimStart(',');
            var value = new StringBuilder();
            var j = equals + 2;
            for (; j < line.Length && line[j] != '"'; j++)
            {
                if (line[j] == '\\' && j + 1 < line.Length)
                {
                    j++;
                    value.Append(line[j] == 'n' ? '\n' : line[j]);
                }
                else
                {
                    value.Append(line[j]);
                }
            }

            labels[key] = value.ToString();
            i = j + 1;
            if (i < line.Length && line[i] == ',')
            {
                i++;
            }
        }

        return i + 1;
    }
}
