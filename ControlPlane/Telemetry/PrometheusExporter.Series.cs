using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace ControlPlane.Director.Telemetry;

public sealed partial class PrometheusExporter
{
    /// <summary>How an instrument's measurements combine into a series value.</summary>
    private enum Aggregation
    {
        /// <summary>Deltas added up (counters, up-down counters).</summary>
        Sum,

        /// <summary>The last reported value (gauges, and observable counters, whose callbacks report totals).</summary>
        Last,

        /// <summary>Bucket counts, sum and count.</summary>
        Histogram,
    }

    /// <summary>The series of one instrument, keyed by their label set.</summary>
    private sealed class InstrumentSeries
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Aggregation _aggregation;
        private readonly string _type;
        private readonly string? _help;
        private readonly double[] _bounds;

        private InstrumentSeries(Instrument instrument, Aggregation aggregation, string type)
        {
            _aggregation = aggregation;
            _type = type;
            _help = instrument.Description;
            _bounds = aggregation == Aggregation.Histogram ? PrometheusText.HistogramBounds(instrument) : [];
            Name = PrometheusText.MetricName(instrument.Name, instrument.Unit, counter: type == "counter");
        }

        public string Name { get; }

        public static InstrumentSeries Create(Instrument instrument)
        {
            var kind = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            return kind switch
            {
                _ when kind == typeof(Counter<>) => new(instrument, Aggregation.Sum, "counter"),
                _ when kind == typeof(ObservableCounter<>) => new(instrument, Aggregation.Last, "counter"),
                _ when kind == typeof(UpDownCounter<>) => new(instrument, Aggregation.Sum, "gauge"),
                _ when kind == typeof(Histogram<>) => new(instrument, Aggregation.Histogram, "histogram"),
                // Gauges, observable gauges and observable up-down counters report current values.
                _ => new(instrument, Aggregation.Last, "gauge"),
            };
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = PrometheusText.Labels(tags);
            var series = _series.GetOrAdd(labels, static (key, bounds) => new Series(key, bounds.Length), _bounds);
            lock (series)
            {
                switch (_aggregation)
                {
                    case Aggregation.Sum:
                        series.Value += value;
                        break;
                    case Aggregation.Last:
                        series.Value = value;
                        break;
                    default:
                        // Buckets count non-cumulatively here; the writer accumulates them.
                        var bucket = 0;
                        while (bucket < _bounds.Length && value > _bounds[bucket])
                        {
                            bucket++;
                        }

                        series.Buckets[bucket]++;
                        series.Value += value;
                        series.Count++;
                        break;
                }
            }
        }

        public void WriteTo(StringBuilder text)
        {
            if (!string.IsNullOrEmpty(_help))
            {
                text.Append("# HELP ").Append(Name).Append(' ').Append(PrometheusText.EscapeHelp(_help)).Append('\n');
            }

            text.Append("# TYPE ").Append(Name).Append(' ').Append(_type).Append('\n');
            foreach (var series in _series.Values.OrderBy(s => s.Labels, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (_aggregation != Aggregation.Histogram)
                    {
                        PrometheusText.Sample(text, Name, series.Labels, null, series.Value);
                        continue;
                    }

                    long cumulative = 0;
                    for (var i = 0; i < _bounds.Length; i++)
                    {
                        cumulative += series.Buckets[i];
                        PrometheusText.Sample(text, Name + "_bucket", series.Labels, PrometheusText.Number(_bounds[i]), cumulative);
                    }

                    PrometheusText.Sample(text, Name + "_bucket", series.Labels, "+Inf", series.Count);
                    PrometheusText.Sample(text, Name + "_sum", series.Labels, null, series.Value);
                    PrometheusText.Sample(text, Name + "_count", series.Labels, null, series.Count);
                }
            }
        }
    }

    /// <summary>One label set's value; guarded by locking the instance.</summary>
    private sealed class Series(string labels, int bounds)
    {
        public string Labels { get; } = labels;

        public double Value { get; set; }

        public long Count { get; set; }

        public long[] Buckets { get; } = new long[bounds + 1];
    }
}
