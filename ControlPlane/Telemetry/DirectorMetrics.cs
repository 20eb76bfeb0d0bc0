using System.Diagnostics.Metrics;

namespace ControlPlane.Director.Telemetry;

/// <summary>
/// The director's one <see cref="System.Diagnostics.Metrics.Meter"/> (<c>ControlPlane.Director</c>) and the API's
/// instruments. A DI singleton: the scheduler and the event hub add their own instruments to <see cref="Meter"/>,
/// and the OpenTelemetry SDK exports every instrument of it (<c>/metrics</c>, OTLP; docs/operations.md, section 4).
/// </summary>
public sealed class DirectorMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "ControlPlane.Director";

    /// <summary>Bucket bounds of request durations, in seconds: store round trips are milliseconds, a slow
    /// listing or a store outage (requests wait up to the request timeout) takes seconds.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Creates the meter through the host's factory, so it is disposed with the host and tests hosting
    /// several directors in one process keep their measurements apart (the meter's scope is the factory).</summary>
    public DirectorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        // Same name, no version: the factory caches meters, so the scheduler's Create(MeterName) gets this very meter.
        Meter = meterFactory.Create(MeterName);
        Requests = Meter.CreateCounter<long>("controlplane.api.requests", "{request}", "API requests answered, by route, method and status code.");
        RequestDuration = Meter.CreateHistogram<double>(
            "controlplane.api.request.duration",
            "s",
            "Time to answer an API request.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        ActiveRequests = Meter.CreateUpDownCounter<long>("controlplane.api.requests.active", "{request}", "API requests in progress.");
        JobsSubmitted = Meter.CreateCounter<long>("controlplane.jobs.submitted", "{job}", "Jobs accepted by this director (replays excluded).");
        CancelRequests = Meter.CreateCounter<long>("controlplane.jobs.cancel_requests", "{job}", "Cancellations accepted by this director.");
        StoreErrors = Meter.CreateCounter<long>("controlplane.api.store_errors", "{error}", "Requests that failed because the store was unavailable or the outcome unknown.");
        AdmissionRefused = Meter.CreateCounter<long>("controlplane.api.admission.refused", "{request}", "Submissions refused with 429 because a pending-job limit was reached, by limit.");
    }

    /// <summary>The director's meter; add scheduler instruments here.</summary>
    public Meter Meter { get; }

    /// <summary><c>controlplane.api.requests</c>: tags <c>route</c>, <c>method</c>, <c>status</c>.</summary>
    public Counter<long> Requests { get; }

    /// <summary><c>controlplane.api.request.duration</c> (s): tags <c>route</c>, <c>method</c>.</summary>
    public Histogram<double> RequestDuration { get; }

    /// <summary><c>controlplane.api.requests.active</c>.</summary>
    public UpDownCounter<long> ActiveRequests { get; }

    /// <summary><c>controlplane.jobs.submitted</c>.</summary>
    public Counter<long> JobsSubmitted { get; }

    /// <summary><c>controlplane.jobs.cancel_requests</c>.</summary>
    public Counter<long> CancelRequests { get; }

    /// <summary><c>controlplane.api.store_errors</c>: tag <c>kind</c> (<c>unavailable</c>, <c>unknown_outcome</c>, <c>rolled_back</c>, <c>error</c>).</summary>
    public Counter<long> StoreErrors { get; }

    /// <summary><c>controlplane.api.admission.refused</c>: tag <c>limit</c> (<c>pending</c>: <c>Scheduler:MaxPending</c>,
    /// <c>group</c>: <c>Scheduler:MaxPendingPerGroup</c>). Replays answered despite a limit are not counted.</summary>
    public Counter<long> AdmissionRefused { get; }

    /// <summary>Adds 0 to the counters of rare events, with each label value they take, so their series exist from
    /// the start: an alert on <c>increase(...)</c> then sees the first event too (a series that appears at 1 has no
    /// increase). Call once the exporter listens (a measurement before is dropped).</summary>
    internal void ZeroRareSeries()
    {
        JobsSubmitted.Add(0);
        CancelRequests.Add(0);
        foreach (var kind in (string[])["unavailable", "unknown_outcome", "error"])
        {
            StoreErrors.Add(0, new KeyValuePair<string, object?>("kind", kind));
        }

        foreach (var limit in (string[])["pending", "group"])
        {
            AdmissionRefused.Add(0, new KeyValuePair<string, object?>("limit", limit));
        }
    }
}

/// <summary>Zeroes the API's rare series (<see cref="DirectorMetrics.ZeroRareSeries"/>) when the host starts: hosted
/// services start after the metrics listeners, which the host starts while validating options.</summary>
internal sealed class DirectorMetricsStartup(DirectorMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ZeroRareSeries();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
