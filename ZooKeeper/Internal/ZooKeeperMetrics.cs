using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>The client's instruments, on the Meter "ControlPlane.ZooKeeper". Recording is skipped when no
/// listener is attached, and never throws.</summary>
internal static class ZooKeeperMetrics
{
    public const string MeterName = "ControlPlane.ZooKeeper";

    private static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "controlplane.zookeeper.requests", "{request}", "Requests answered by the server, by operation and result code.");

    /// <summary>Bucket bounds of request durations, in seconds: a reply on a healthy ensemble takes a millisecond or
    /// less, a request queued behind a reconnect or a slow fsync takes up to the session timeout.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "controlplane.zookeeper.request.duration", "s", "Time from queuing a request to its reply.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "controlplane.zookeeper.reconnects", "{reconnect}", "Connections re-established for a live session.");

    public static readonly UpDownCounter<long> Sessions = Meter.CreateUpDownCounter<long>(
        "controlplane.zookeeper.sessions", "{session}", "Live sessions of this process by state (connecting, connected, suspended).");

    public static readonly Counter<long> Expirations = Meter.CreateCounter<long>(
        "controlplane.zookeeper.session.expirations", "{session}", "Sessions that expired (reported by a server or detected locally).");

    /// <summary>Adds 0 to the counters of rare events, so their series exist before the first one (an alert on
    /// increase() misses a series that appears at 1). Called per client opened; a 0 with no listener is dropped.</summary>
    public static void ZeroRareSeries()
    {
        Reconnects.Add(0);
        Expirations.Add(0);
    }

    public static void RecordReply(PendingReply request, int err)
    {
        if (!Requests.Enabled && !RequestDuration.Enabled)
            return;
        var tags = new TagList
        {
            { "zookeeper.operation", OpNames.Of(request.Op) },
            { "zookeeper.status", err == 0 ? "ok" : ((ErrorCode)err).ToString() },
        };
        Requests.Add(1, tags);
        if (RequestDuration.Enabled)
            RequestDuration.Record(Stopwatch.GetElapsedTime(request.StartTimestamp).TotalSeconds, tags);
    }

    public static void StateChanged(ConnectionState previous, ConnectionState state, bool first)
    {
        if (!Sessions.Enabled)
            return;
        if (!first && previous is not (ConnectionState.Expired or ConnectionState.Closed))
            Sessions.Add(-1, new KeyValuePair<string, object?>("zookeeper.session.state", Name(previous)));
        // Ended sessions leave the gauge (expiries are counted by their own counter), so a long-lived
        // process that opens many sessions does not accumulate a growing "closed" series.
        if (state is not (ConnectionState.Expired or ConnectionState.Closed))
            Sessions.Add(1, new KeyValuePair<string, object?>("zookeeper.session.state", Name(state)));
    }

    private static string Name(ConnectionState state) => state switch
    {
        ConnectionState.Connecting => "connecting",
        ConnectionState.Connected => "connected",
        _ => "suspended",
    };
}
