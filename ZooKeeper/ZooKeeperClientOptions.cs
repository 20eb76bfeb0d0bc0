namespace ControlPlane.ZooKeeper;

/// <summary>Settings of a <see cref="ZooKeeperClient"/>. Validated by <see cref="Validate"/> when connecting.</summary>
public sealed class ZooKeeperClientOptions
{
    /// <summary>Servers and optional chroot: <c>host1:2181,host2:2181/app</c>. Every path the client sends is
    /// prefixed with the chroot, and every path it returns has it stripped. Required.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The requested session timeout. The server clamps it to [2, 20] × its tickTime; the granted value is
    /// <see cref="ZooKeeperClient.NegotiatedSessionTimeout"/> and a warning is logged when they differ.</summary>
    /// <value>Default 30 s.</value>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time budget of <see cref="ZooKeeperClient.ConnectAsync"/> across every host, and of each
    /// later connection attempt to one host. Within it the <c>zookeeper.connect</c> pipeline tries each server in
    /// turn, the next one at once (<c>zookeeper.connect.failover</c>), and pauses after a round in which every
    /// server failed (see <see cref="MaxReconnectDelay"/>).</summary>
    /// <value>Default 10 s.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upper bound of every retry pause of the client. Each retry is a named Polly pipeline on
    /// <see cref="TimeProvider"/> whose pauses are Polly's decorrelated jitter (median 50 ms, doubling, never above
    /// this), so a fleet of clients cut off together does not come back together:
    /// <list type="bullet">
    /// <item><c>zookeeper.connect</c>: opening the session, pausing between rounds over the servers; bounded by
    /// <see cref="ConnectTimeout"/>.</item>
    /// <item><c>zookeeper.reconnect</c>: resuming the session after its connection broke, the first retry at once
    /// (another server is likely fine); bounded by the session's expiry (see
    /// <see cref="ExpireLocallyWhenDisconnected"/>) or closing the client.</item>
    /// </list>
    /// </summary>
    /// <value>Default 1 s.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock of every time the client judges: the session's expiry when cut off, the connection's
    /// ping interval and read timeout, request timeouts, connect timeouts, <see cref="ZooKeeperClient.ProvablyAliveFor"/>
    /// and every retry pause. Tests pass a fake clock to drive them.</summary>
    /// <value>Default <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long a request may wait for its reply before it fails with <see cref="RequestTimeoutException"/>
    /// (the connection is kept). <see cref="Timeout.InfiniteTimeSpan"/> disables it; the connection's read
    /// timeout (2/3 of the session timeout) still fails everything when the server goes silent.</summary>
    /// <value>Default 30 s.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The highest zxid the caller has already seen, e.g. through an earlier session. It is sent when
    /// connecting, so a server that has not caught up with it refuses the session and the client tries another:
    /// a new session never reads older state than an old one did. <value>Default 0 (nothing seen).</value></summary>
    public long LastZxidSeen { get; set; }

    /// <summary>Authentications sent on connect and replayed after every reconnect.</summary>
    public IList<ZooKeeperAuthInfo> AuthInfos { get; } = [];

    /// <summary>Whether to declare the session <see cref="ConnectionState.Expired"/> on the client once it has been
    /// cut off from every server for longer than the negotiated timeout, instead of waiting until a server says
    /// so. Recipes that hold leadership or leases need this to stop on time. Without it the client still gives up
    /// reconnecting after ten timeouts.</summary>
    /// <value>Default true.</value>
    public bool ExpireLocallyWhenDisconnected { get; set; } = true;

    /// <summary>Events a persistent watch buffers for its reader. When a reader falls this far behind, the watch
    /// ends with a <see cref="WatchOverflowException"/> (never blocks the connection, never drops silently).</summary>
    /// <value>Default 4096.</value>
    public int WatchEventCapacity { get; set; } = 4096;

    /// <summary>TLS to the servers' secure client port: server verification and an optional client certificate.
    /// Every server in <see cref="ConnectionString"/> must then be a TLS port. <value>Default null: plaintext.</value></summary>
    public ZooKeeperTlsOptions? Tls { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        _ = Internal.ConnectionStringParser.Parse(ConnectionString);
        if (SessionTimeout <= TimeSpan.Zero || SessionTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentException($"SessionTimeout must be positive, was {SessionTimeout}.", nameof(SessionTimeout));
        if (ConnectTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"ConnectTimeout must be positive, was {ConnectTimeout}.", nameof(ConnectTimeout));
        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentException($"RequestTimeout must be positive or infinite, was {RequestTimeout}.", nameof(RequestTimeout));
        if (MaxReconnectDelay <= TimeSpan.Zero)
            throw new ArgumentException($"MaxReconnectDelay must be positive, was {MaxReconnectDelay}.", nameof(MaxReconnectDelay));
        if (TimeProvider is null)
            throw new ArgumentException("TimeProvider must not be null.", nameof(TimeProvider));
        if (WatchEventCapacity < 1)
            throw new ArgumentException($"WatchEventCapacity must be at least 1, was {WatchEventCapacity}.", nameof(WatchEventCapacity));
        Tls?.Validate();
    }
}

/// <summary>A persistent watch's reader fell more than <see cref="ZooKeeperClientOptions.WatchEventCapacity"/>
/// events behind. The watch has ended: re-read the state you track and add a new watch.</summary>
public sealed class WatchOverflowException(string path)
    : ZooKeeperException(ErrorCode.SystemError, path, $"Watch on {path} overflowed: its reader fell behind; re-read and watch again.");
