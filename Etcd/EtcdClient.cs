using ControlPlane.Etcd.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace ControlPlane.Etcd;

/// <summary>
/// An etcd v3 client: KV, transactions, watches, leases, auth, status and membership over gRPC/HTTP/2.
/// Thread-safe; create one per process and share it. All watches share one stream and all kept-alive leases
/// share one keepalive stream. Unary calls fail over between endpoints and are retried only when that is safe
/// (reads on Unavailable; writes only when the request provably never left, e.g. connection refused).
/// Dispose it to close the streams: watches then end and kept-alive leases stop being renewed (not revoked).
/// </summary>
public sealed partial class EtcdClient : IAsyncDisposable
{
    /// <summary>The name of the client's <see cref="System.Diagnostics.Metrics.Meter"/>, one per process
    /// (docs/etcd-client.md lists its instruments): add it to a meter provider to export them.</summary>
    public const string MeterName = EtcdMetrics.MeterName;

    /// <summary>
    /// The name of the client's <see cref="System.Diagnostics.ActivitySource"/>, one per process: add it to a tracer
    /// provider (or an <see cref="System.Diagnostics.ActivityListener"/>) to get one client span per unary call, named
    /// after its gRPC method (e.g. <c>etcdserverpb.KV/Range</c>, retries included, child of
    /// <see cref="System.Diagnostics.Activity.Current"/>), and one root span per opening of the watch or keep-alive
    /// stream; streamed messages get none. Tags: <c>rpc.system</c>, <c>rpc.service</c>, <c>rpc.method</c>,
    /// <c>db.system</c> = <c>etcd</c>, <c>server.address</c>/<c>server.port</c> of the last attempt's endpoint,
    /// <c>rpc.grpc.status_code</c>, <c>etcd.attempts</c>; a failure sets status Error and <c>error.type</c> (the
    /// exception's type). Cost: with no listener, one check per call and nothing allocated; sampled, one span
    /// with its tags (docs/etcd-client.md).
    /// </summary>
    public const string ActivitySourceName = EtcdTracing.SourceName;

    private readonly EtcdClientOptions _options;
    private readonly EndpointSet _endpoints;
    private readonly GrpcTransport _transport;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _clockAnchor;
    private readonly long _clockAnchorTimestamp;
    private readonly CancellationTokenSource _disposed = new();
    private readonly WatchMultiplexer _watches;
    private readonly LeaseKeeper _leases;
    private readonly ResiliencePipeline _calls;

    /// <summary>Creates a client. No connection is made until the first call.</summary>
    /// <param name="options">Endpoints, credentials and timeouts; validated here.</param>
    /// <param name="logger">Receives connection, failover, watch and lease events; null for none.</param>
    /// <param name="timeProvider">Clock for lease deadlines, call deadlines and every retry's pauses;
    /// <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentException">The options are invalid (e.g. no endpoint).</exception>
    public EtcdClient(EtcdClientOptions options, ILogger<EtcdClient>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _endpoints = new EndpointSet(options.Endpoints, options.Tls is not null);
        _transport = new GrpcTransport(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _clockAnchor = _time.GetUtcNow();
        _clockAnchorTimestamp = _time.GetTimestamp();
        EtcdMetrics.ZeroRareSeries();
        _calls = EtcdRetries.BuildCall(_endpoints.Count, options.MaxReconnectDelay, _time);
        _watches = new WatchMultiplexer(this);
        _leases = new LeaseKeeper(this);
    }

    /// <summary>The endpoint unary calls and newly opened streams currently prefer.</summary>
    public Uri CurrentEndpoint => _endpoints.Current;

    internal EtcdClientOptions Options => _options;

    internal EndpointSet Endpoints => _endpoints;

    internal GrpcTransport Transport => _transport;

    internal ILogger Logger => _logger;

    internal TimeProvider Time => _time;

    /// <summary>
    /// The clock of lease deadlines: the wall time when this client was created plus the monotonic time elapsed
    /// since. A step of the machine's clock (NTP, a resumed VM) cannot stretch a lease's provable lifetime, which is
    /// what self-fencing relies on; only the monotonic clock, measured on this machine, enters.
    /// </summary>
    internal DateTimeOffset MonotonicNow => _clockAnchor + _time.GetElapsedTime(_clockAnchorTimestamp);

    internal CancellationToken DisposedToken => _disposed.Token;

    /// <summary>Ends all watches (their enumerations complete with <see cref="ObjectDisposedException"/>), stops
    /// keepalives without revoking leases, and closes connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        await _watches.DisposeAsync().ConfigureAwait(false);
        await _leases.DisposeAsync().ConfigureAwait(false);
        _transport.Dispose();
        _disposed.Dispose();
    }
}
