using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ControlPlane.Etcd.Internal;

/// <summary>The component's one <see cref="Meter"/> ("ControlPlane.Etcd"). Recording never throws and is skipped
/// when nobody listens.</summary>
internal static class EtcdMetrics
{
    public const string MeterName = "ControlPlane.Etcd";

    private static readonly Meter Meter = new(MeterName, "1.0");

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "controlplane.etcd.requests", "{request}", "Unary etcd calls by method and final gRPC status.");

    /// <summary>Bucket bounds of call durations, in seconds: a healthy cluster answers in about a millisecond, a call
    /// that retries through a leader election or a failover takes seconds.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "controlplane.etcd.request.duration", "s", "Duration of unary etcd calls, retries included.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    private static readonly Counter<long> WatchResumes = Meter.CreateCounter<long>(
        "controlplane.etcd.watch.resumes", "{resume}", "Times the watch stream was re-established after breaking.");

    private static readonly Counter<long> LeaseLosses = Meter.CreateCounter<long>(
        "controlplane.etcd.lease.losses", "{lease}", "Leases reported lost (expired or unanswered within their TTL).");

    private static readonly Counter<long> Reauthentications = Meter.CreateCounter<long>(
        "controlplane.etcd.reauthentications", "{authentication}", "Re-authentications after a rejected token.");

    /// <summary>Adds 0 to the counters of rare events, so their series exist before the first one (an alert on
    /// increase() misses a series that appears at 1). Called per client created; a 0 with no listener is dropped.</summary>
    public static void ZeroRareSeries()
    {
        WatchResumes.Add(0);
        LeaseLosses.Add(0, new KeyValuePair<string, object?>("reason", "expired"));
        LeaseLosses.Add(0, new KeyValuePair<string, object?>("reason", "unconfirmed"));
        Reauthentications.Add(0);
    }

    public static void RecordRequest(string method, GrpcStatusCode status, long startTimestamp)
    {
        if (!Requests.Enabled && !Duration.Enabled)
        {
            return;
        }

        var tags = new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", (int)status } };
        Requests.Add(1, tags);
        Duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }

    public static void RecordWatchResume(Uri endpoint) =>
        WatchResumes.Add(1, new KeyValuePair<string, object?>("server.address", endpoint.Authority));

    public static void RecordLeaseLoss(string reason) => LeaseLosses.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void RecordReauthentication() => Reauthentications.Add(1);
}
