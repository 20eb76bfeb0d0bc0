using ControlPlane.ZooKeeper.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace ControlPlane.ZooKeeper;

/// <summary>A ZooKeeper session: one TCP connection at a time to one of the configured servers, many requests
/// in flight on it (replies matched in FIFO order), automatic reconnection that keeps the session, its
/// watches and its authentications, and typed results and exceptions.
/// <para>Thread-safe. Create with <see cref="ConnectAsync"/>; end with <see cref="CloseAsync"/> (or dispose),
/// which deletes the session's ephemeral nodes at once. While <see cref="State"/> is
/// <see cref="ConnectionState.Suspended"/> requests fail fast with <see cref="ConnectionLossException"/>;
/// once it is <see cref="ConnectionState.Expired"/> this instance is finished: open a new one.</para></summary>
public sealed partial class ZooKeeperClient : IAsyncDisposable
{
    /// <summary>The name of the client's <see cref="System.Diagnostics.Metrics.Meter"/>, one per process
    /// (docs/zookeeper-client.md lists its instruments): add it to a meter provider to export them.</summary>
    public const string MeterName = ZooKeeperMetrics.MeterName;

    /// <summary>
    /// The name of the client's <see cref="System.Diagnostics.ActivitySource"/>, one per process: add it to a tracer
    /// provider (or an <see cref="System.Diagnostics.ActivityListener"/>) to get one client span per operation
    /// (create, delete, exists, get_data, set_data, get_children, get_acl, set_acl, sync, multi, add_watch,
    /// remove_watches), named after it, started in the caller's context (a child of
    /// <see cref="System.Diagnostics.Activity.Current"/>, which it does not replace) and stopped when the reply
    /// completes it. Pings, watch notifications and reconnects have none. Tags: <c>db.system</c> =
    /// <c>zookeeper</c>, <c>db.operation.name</c>, <c>db.zookeeper.path</c> (as the caller named it, cut at 256
    /// characters), <c>db.operation.batch.size</c> (multi), <c>server.address</c>/<c>server.port</c>; a failure sets
    /// status Error, <c>error.type</c> (the exception's type) and <c>db.response.status_code</c> (e.g.
    /// <c>NoNode</c>). Cost: with no listener, one check per operation and nothing allocated; sampled, one span and
    /// one extra task per operation (docs/zookeeper-client.md).
    /// </summary>
    public const string ActivitySourceName = ZooKeeperTracing.SourceName;

    private readonly ZooKeeperClientOptions _options;
    private readonly ParsedConnectionString _target;
    private readonly (string Host, int Port)[] _hosts;
    private readonly ILogger _logger;
    private readonly WatchRegistry _watches = new();
    private readonly List<ZooKeeperAuthInfo> _authInfos;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _connect;
    private readonly ResiliencePipeline _reconnect;
    private Connection? _connection;
    private Task _sessionLoop = Task.CompletedTask;
    private long _sessionId;
    private byte[] _password = new byte[16];
    private long _lastZxid;
    private int _negotiatedTimeoutMs;
    private int _nextHost;
    private int _closing;

    private ZooKeeperClient(ZooKeeperClientOptions options, ILogger logger)
    {
        _options = options;
        _lastZxid = options.LastZxidSeen;
        _target = ConnectionStringParser.Parse(options.ConnectionString);
        // Shuffle once so a fleet of clients spreads over the ensemble, then go round-robin.
        _hosts = [.. _target.Hosts];
        Random.Shared.Shuffle(_hosts);
        _logger = logger;
        _time = options.TimeProvider;
        _connect = ZooKeeperRetries.BuildConnect(_hosts.Length, options.MaxReconnectDelay, _time);
        _reconnect = ZooKeeperRetries.BuildReconnect(options.MaxReconnectDelay, _time);
        _authInfos = [.. options.AuthInfos];
        _watches.Overflowed += w => Log.WatchOverflowed(_logger, w.Path);
    }

    /// <summary>Opens a session on one of the servers of <see cref="ZooKeeperClientOptions.ConnectionString"/>
    /// within <see cref="ZooKeeperClientOptions.ConnectTimeout"/>, and returns once it is
    /// <see cref="ConnectionState.Connected"/> (authentications already sent).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="ConnectionLossException">No server accepted a session within the connect timeout.</exception>
    public static async Task<ZooKeeperClient> ConnectAsync(
        ZooKeeperClientOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = (ILogger?)loggerFactory?.CreateLogger<ZooKeeperClient>() ?? NullLogger.Instance;
        var client = new ZooKeeperClient(options, logger);
        ZooKeeperMetrics.ZeroRareSeries();
        try
        {
            await client.OpenFirstConnectionAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The session id (0 before the first connection). Stays the same across reconnects.</summary>
    public long SessionId => Interlocked.Read(ref _sessionId);

    /// <summary>The session timeout the server granted (it clamps the request to its configured bounds).</summary>
    public TimeSpan NegotiatedSessionTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedTimeoutMs));

    /// <summary>The highest zxid this client has seen in a reply. Sent on reconnect, so a server that is behind it
    /// refuses the session and the client never reads older state than it has already seen.</summary>
    public long LastZxid => Interlocked.Read(ref _lastZxid);

    /// <summary>How long the session is certain to live from now, as far as this client can prove: the negotiated
    /// timeout minus the time since the <em>send</em> of the last request or ping the server answered (the
    /// server restarts its expiry clock on every packet it receives, so it cannot expire the session earlier).
    /// Zero or negative once the server may have expired it; <see cref="TimeSpan.Zero"/> once Expired or Closed.
    /// Measured on <see cref="ZooKeeperClientOptions.TimeProvider"/>.
    /// Work that must not outlive the session (leading, holding a lease) should stop while this is still above
    /// its safety margin.</summary>
    public TimeSpan ProvablyAliveFor
    {
        get
        {
            if (State is ConnectionState.Expired or ConnectionState.Closed)
                return TimeSpan.Zero;
            var acknowledged = Interlocked.Read(ref _lastAcknowledgedSend);
            return acknowledged == NeverAcknowledged
                ? TimeSpan.Zero
                : NegotiatedSessionTimeout - _time.GetElapsedTime(acknowledged);
        }
    }

    /// <summary>The chroot every path is relative to, or null.</summary>
    public string? Chroot => _target.Chroot;

    /// <summary>"host:port" of the server currently connected to, or null while not connected.</summary>
    public string? ConnectedServer => State == ConnectionState.Connected ? Volatile.Read(ref _connection)?.Server : null;

    /// <summary>Closes the session: the server deletes its ephemeral nodes and fires their watches right away.
    /// Pending requests fail, watch streams end. Idempotent; never throws for connection problems.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            await _sessionLoop.ConfigureAwait(false);
            return;
        }

        var connection = Volatile.Read(ref _connection);
        if (connection is not null && State == ConnectionState.Connected)
        {
            try
            {
                // Tell the server, so ephemerals vanish now rather than after the session timeout.
                var writer = JuteWriter.ForRequest(OpCode.CloseSession, 0);
                var request = new PendingReply<bool>(OpCode.CloseSession, null, ReplyParsers.None);
                var reply = SubmitOn(connection, ref writer, request, CancellationToken.None);
                await reply.WaitAsync(TimeSpan.FromSeconds(3), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ZooKeeperException or TimeoutException)
            {
                // The server ends the session by itself after the timeout.
            }
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        connection?.Break(new ConnectionLossException("Client closed"));
        try
        {
            await _sessionLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (State is not ConnectionState.Expired)
            SetState(ConnectionState.Closed, null);
        _watches.EndAll(null);
        CompleteStateSubscribers();
        Log.Closed(_logger, SessionId);
        _shutdown.Dispose();
    }

    /// <summary>Same as <see cref="CloseAsync"/>.</summary>
    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}
