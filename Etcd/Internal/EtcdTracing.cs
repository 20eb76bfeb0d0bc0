using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// The component's one <see cref="ActivitySource"/> ("ControlPlane.Etcd"): a client span per unary call (retries
/// included, named after the gRPC method, e.g. <c>etcdserverpb.KV/Range</c>) and one per opening of the watch or
/// keep-alive stream; never one per streamed message. With no listener <see cref="StartCall"/> is one check and
/// returns null, and every other method here is skipped by its caller's null check.
/// </summary>
internal static class EtcdTracing
{
    public const string SourceName = "ControlPlane.Etcd";

    private static readonly ActivitySource Source = new(SourceName, "1.0");

    /// <summary>Span name, service and method per gRPC path: a handful of constants, split once.</summary>
    private static readonly ConcurrentDictionary<string, Names> NamesByPath = new(StringComparer.Ordinal);

    /// <summary>Starts the client span of <paramref name="path"/> (e.g. <c>/etcdserverpb.KV/Range</c>) as a child of
    /// <see cref="Activity.Current"/>; null when nobody listens or the listener does not sample it.</summary>
    public static Activity? StartCall(string path) => Source.HasListeners() ? Start(path) : null;

    /// <summary>
    /// Starts the span of opening a stream as a root: the stream loops run for the client's life, and the caller whose
    /// call first started one is not the parent of every later reconnect. The caller must be an async method, so that
    /// clearing <see cref="Activity.Current"/> does not leak out of it.
    /// </summary>
    public static Activity? StartStream(string path, Uri endpoint)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null;
        var activity = Start(path);
        if (activity is { IsAllDataRequested: true })
        {
            SetServer(activity, endpoint);
        }

        return activity;
    }

    /// <summary>Records a call that answered: the endpoint of its last attempt and how many attempts it took.</summary>
    public static void Succeeded(Activity activity, Uri endpoint, int attempts)
    {
        if (activity.IsAllDataRequested)
        {
            SetServer(activity, endpoint);
            activity.SetTag("rpc.grpc.status_code", (int)GrpcStatusCode.OK);
            activity.SetTag("etcd.attempts", attempts);
        }
    }

    /// <summary>Records a failed call or stream opening (status Error, <c>error.type</c> = the exception's type, and
    /// the gRPC status) and returns <paramref name="error"/>, so callers write <c>throw Failed(...)</c>.</summary>
    public static Exception Failed(Activity? activity, Uri endpoint, int attempts, GrpcStatusCode status, Exception error)
    {
        if (activity is null)
        {
            return error;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        if (activity.IsAllDataRequested)
        {
            SetServer(activity, endpoint);
            activity.SetTag("error.type", error.GetType().FullName);
            activity.SetTag("rpc.grpc.status_code", (int)status);
            if (attempts > 0)
            {
                activity.SetTag("etcd.attempts", attempts);
            }
        }

        return error;
    }

    private static Activity? Start(string path)
    {
        var names = NamesByPath.GetOrAdd(path, Split);
        var activity = Source.StartActivity(names.Span, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", names.Service);
            activity.SetTag("rpc.method", names.Method);
            activity.SetTag("db.system", "etcd");
        }

        return activity;
    }

    private static void SetServer(Activity activity, Uri endpoint)
    {
        activity.SetTag("server.address", endpoint.Host);
        activity.SetTag("server.port", endpoint.Port);
    }

    /// <summary><c>/etcdserverpb.KV/Range</c> → <c>etcdserverpb.KV/Range</c>, <c>etcdserverpb.KV</c>, <c>Range</c>.</summary>
    private static Names Split(string path)
    {
        var span = path.TrimStart('/');
        var slash = span.LastIndexOf('/');
        return slash < 0 ? new Names(span, span, span) : new Names(span, span[..slash], span[(slash + 1)..]);
    }

    private sealed record Names(string Span, string Service, string Method);
}
