using System.Diagnostics.Metrics;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.UnitTests.Director;

public sealed class PrometheusExporterTests : IDisposable
{
    // A meter name unique to the test instance: xunit runs test classes in parallel, and listeners see every meter.
    private readonly Meter _meter = new($"ControlPlane.Test.{Guid.NewGuid():N}");
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests() => _exporter = new PrometheusExporter(i => i.Meter == _meter);

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public void Counters_are_summed_per_label_set_and_named_with_unit_and_total()
    {
        var counter = _meter.CreateCounter<long>("controlplane.jobs.submitted", "{job}", "Jobs accepted.");
        counter.Add(2, new KeyValuePair<string, object?>("route", "/v1/jobs"), new KeyValuePair<string, object?>("method", "POST"));
        counter.Add(3, new KeyValuePair<string, object?>("method", "POST"), new KeyValuePair<string, object?>("route", "/v1/jobs"));
        counter.Add(1);

        var lines = Lines();

        Assert.Equal(
            [
                "# HELP controlplane_jobs_submitted_total Jobs accepted.",
                "# TYPE controlplane_jobs_submitted_total counter",
                "controlplane_jobs_submitted_total 1",
                "controlplane_jobs_submitted_total{method=\"POST\",route=\"/v1/jobs\"} 5",
            ],
            lines);
    }

    [Fact]
    public void Histograms_write_cumulative_buckets_with_inf_sum_and_count()
    {
        var histogram = _meter.CreateHistogram<double>(
            "controlplane.api.request.duration",
            "s",
            "Durations.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });
        histogram.Record(0.05);
        histogram.Record(0.1);
        histogram.Record(0.5);
        histogram.Record(7);

        var lines = Lines();

        Assert.Equal(
            [
                "# HELP controlplane_api_request_duration_seconds Durations.",
                "# TYPE controlplane_api_request_duration_seconds histogram",
                "controlplane_api_request_duration_seconds_bucket{le=\"0.1\"} 2",
                "controlplane_api_request_duration_seconds_bucket{le=\"1\"} 3",
                "controlplane_api_request_duration_seconds_bucket{le=\"+Inf\"} 4",
                "controlplane_api_request_duration_seconds_sum 7.65",
                "controlplane_api_request_duration_seconds_count 4",
            ],
            lines);
    }

    [Fact]
    public void Up_down_counters_and_observable_gauges_are_gauges_read_at_scrape_time()
    {
        var active = _meter.CreateUpDownCounter<int>("controlplane.api.requests.active");
        var level = 1.5;
        _meter.CreateObservableGauge("controlplane.queue.depth", () => level, "{job}");
        _meter.CreateObservableCounter("controlplane.ticks", () => 10L);
        active.Add(3);
        active.Add(-1);

        Assert.Contains("controlplane_api_requests_active 2", Lines());
        Assert.Contains("# TYPE controlplane_queue_depth gauge", Lines());
        level = 4;
        var lines = Lines();
        Assert.Contains("controlplane_queue_depth 4", lines);
        // Observable counters report totals: each scrape shows the latest, never a sum of scrapes.
        Assert.Contains("controlplane_ticks_total 10", lines);
        Assert.Contains("# TYPE controlplane_ticks_total counter", lines);
    }

    [Fact]
    public void Label_values_are_escaped_and_names_sanitized()
    {
        var counter = _meter.CreateCounter<long>("odd-name.with/chars", unit: "By", description: "Line one\nline \\two");
        counter.Add(1, new KeyValuePair<string, object?>("the.key", "a \"quoted\"\\ value\nnext"));

        var lines = Lines();

        Assert.Contains("# HELP odd_name_with_chars_bytes_total Line one\\nline \\\\two", lines);
        Assert.Contains("odd_name_with_chars_bytes_total{the_key=\"a \\\"quoted\\\"\\\\ value\\nnext\"} 1", lines);
    }

    [Fact]
    public void Instruments_the_filter_excludes_are_not_exported()
    {
        using var other = new Meter("ControlPlane.Other." + Guid.NewGuid().ToString("N"));
        other.CreateCounter<long>("controlplane.elsewhere").Add(1);

        Assert.DoesNotContain(Lines(), line => line.Contains("elsewhere", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("controlplane.api.requests", "{request}", true, "controlplane_api_requests_total")]
    [InlineData("controlplane.api.request.duration", "s", false, "controlplane_api_request_duration_seconds")]
    [InlineData("controlplane.store.bytes", "By", false, "controlplane_store_bytes")]
    [InlineData("errors_total", null, true, "errors_total")]
    [InlineData("9lives", "1", false, "_9lives")]
    public void Metric_names_follow_the_opentelemetry_conventions(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusText.MetricName(name, unit, counter));

    [Fact]
    public void Numbers_use_invariant_round_trip_forms() =>
        Assert.Equal(["0.1", "+Inf", "-Inf", "NaN", "1E+21"], new[] { 0.1, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e21 }.Select(PrometheusText.Number));

    private List<string> Lines() => [.. _exporter.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}
