using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace ControlPlane.Director.Telemetry;

/// <summary>
/// Aggregates the measurements of selected instruments with a <see cref="MeterListener"/> and renders them in the
/// Prometheus text exposition format (version 0.0.4) for <c>/metrics</c>. Counters and up-down counters are summed,
/// gauges and observable instruments keep their last value, histograms count into cumulative buckets.
/// </summary>
/// <remarks>
/// Recording never throws and takes one short lock per series; rendering polls observable instruments first, so a
/// scrape sees their values at scrape time. Series live as long as the exporter (labels here are bounded: routes,
/// methods, status codes).
/// </remarks>
public sealed partial class PrometheusExporter : IDisposable
{
    /// <summary>The content type of the text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentSeries> _instruments = new();
    // Observable callbacks are polled by one scrape at a time: two concurrent scrapes would interleave their values.
    private readonly Lock _scrape = new();

    /// <summary>Starts listening to every instrument, published now or later, for which <paramref name="include"/> is true.</summary>
    public PrometheusExporter(Func<Instrument, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument))
            {
                var series = _instruments.GetOrAdd(instrument, InstrumentSeries.Create);
                listener.EnableMeasurementEvents(instrument, series);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentSeries? _);
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => Record(state, (double)value, tags));
        _listener.Start();
    }

    /// <summary>The current values of every included instrument, in the text format, families ordered by name.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        lock (_scrape)
        {
            _listener.RecordObservableInstruments();
            foreach (var series in _instruments.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                series.WriteTo(text);
            }
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private static void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A listener callback must never throw into the code that records the measurement.
        if (state is InstrumentSeries series && !double.IsNaN(value))
        {
            series.Record(value, tags);
        }
    }
}
