using System.Diagnostics.Metrics;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Scheduler instruments on the director's meter (<c>ControlPlane.Director</c>); the OpenTelemetry SDK exports
/// them (<c>/metrics</c>, OTLP). Names follow OpenTelemetry conventions; docs/operations.md says what each means.
/// </summary>
internal sealed class SchedulerMetrics
{
    /// <summary>Meter name shared with the API's instruments.</summary>
    public const string MeterName = "ControlPlane.Director";

    /// <summary>Bucket bounds of pass durations, in seconds: fine around the 100 ms a loaded leader's pass must stay under.</summary>
    private static readonly double[] PassBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter<long> _writes;
    private readonly Counter<long> _passes;
    private readonly Histogram<double> _passDuration;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _selfCheckFailed;
    private readonly Histogram<long> _evaluated;
    private int _leader;
    private int _pending;
    private int _unplaceable;
    private int[] _workers = new int[Enum.GetValues<Contracts.Workers.WorkerState>().Length];

    public SchedulerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _writes = meter.CreateCounter<long>("controlplane.scheduler.writes", "{write}", "Planned writes committed by the leader, by kind.");
        _passes = meter.CreateCounter<long>("controlplane.scheduler.passes", "{pass}", "Reconciliation passes completed.");
        _passDuration = meter.CreateHistogram<double>(
            "controlplane.scheduler.pass.duration", "s", "Duration of one reconciliation pass, writes included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PassBuckets });
        _refused = meter.CreateCounter<long>("controlplane.scheduler.batches.refused", "{batch}", "Fenced batches the store refused because a record changed underneath (replanned).");
        _selfCheckFailed = meter.CreateCounter<long>("controlplane.scheduler.selfcheck.failures", "{check}", "Self-checks that found the incremental state differing from a rebuild (repaired by adopting the rebuild).");
        _evaluated = meter.CreateHistogram<long>("controlplane.scheduler.pass.evaluated", "{item}", "Items (jobs, assignments, workers) one pass judged because they changed or fell due.");
        meter.CreateObservableGauge("controlplane.scheduler.leader", () => Volatile.Read(ref _leader), "{leader}", "The cells this director schedules as leader (1 while it leads, with one cell).");
        meter.CreateObservableGauge("controlplane.jobs.pending", () => Volatile.Read(ref _pending), "{job}", "Pending jobs seen by the leader's last pass.");
        meter.CreateObservableGauge("controlplane.workers", ObserveWorkers, "{worker}", "Live workers per state (ready, draining, suspect, unsupportedProtocol) as the leader's last pass saw them; none on other directors.");
        meter.CreateObservableGauge("controlplane.jobs.unplaceable", () => Volatile.Read(ref _unplaceable), "{job}", "Jobs whose turn had come but no worker could take them in the last pass.");
    }

    /// <summary>A term starts (true) or ends (false) in one cell: the leader gauge counts the cells this director leads
    /// (0 or 1 with one cell, as before cells).</summary>
    public void Leading(bool leading)
    {
        var led = leading ? Interlocked.Increment(ref _leader) : Interlocked.Decrement(ref _leader);
        if (led == 0)
        {
            // Only the leader's view of the queue is meaningful: a former leader reports none, not a stale figure.
            Volatile.Write(ref _pending, 0);
            Volatile.Write(ref _unplaceable, 0);
            Volatile.Write(ref _workers, new int[_workers.Length]);
        }
    }

    /// <summary>Publishes the live workers per state after a pass: a copy of four counts the state keeps (O(1)).</summary>
    public void WorkersCounted(IReadOnlyList<int> perState) => Volatile.Write(ref _workers, [.. perState]);

    private IEnumerable<Measurement<int>> ObserveWorkers()
    {
        var counts = Volatile.Read(ref _workers);
        for (var i = 0; i < counts.Length; i++)
        {
            var name = Director.Api.WorkerQueries.StateName((Contracts.Workers.WorkerState)i);
            yield return new Measurement<int>(counts[i], new KeyValuePair<string, object?>("state", name));
        }
    }

    public void PassCompleted(Plan plan, TimeSpan duration)
    {
        Volatile.Write(ref _pending, plan.Pending);
        Volatile.Write(ref _unplaceable, plan.Unplaceable);
        _passes.Add(1);
        if (_evaluated.Enabled)
        {
            _evaluated.Record(plan.Evaluated);
        }

        if (_passDuration.Enabled)
        {
            _passDuration.Record(duration.TotalSeconds);
        }
    }

    public void Committed(IEnumerable<PlannedWrite> writes)
    {
        if (!_writes.Enabled)
        {
            return;
        }

        foreach (var write in writes)
        {
            _writes.Add(1, new KeyValuePair<string, object?>("kind", write.Kind.ToString().ToLowerInvariant()));
        }
    }

    public void Refused() => _refused.Add(1);

    public void SelfCheckFailed() => _selfCheckFailed.Add(1);

    /// <summary>Adds 0 to every counter, each write kind included, so their series exist before the first event
    /// (an alert on <c>increase(...)</c> misses a series that appears at 1). Call once the exporter listens.</summary>
    public void ZeroRareSeries()
    {
        _passes.Add(0);
        _refused.Add(0);
        _selfCheckFailed.Add(0);
        foreach (var kind in Enum.GetValues<WriteKind>())
        {
            _writes.Add(0, new KeyValuePair<string, object?>("kind", kind.ToString().ToLowerInvariant()));
        }
    }
}
