namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>Settings of a <see cref="ZooKeeperCoordinationStore"/>.</summary>
public sealed class ZooKeeperStoreOptions
{
    /// <summary>The ensemble: <c>host:port,host:port</c> (no chroot: <see cref="Root"/> plays that part).</summary>
    public string ConnectionString { get; set; } = "127.0.0.1:2181";

    /// <summary>The znode under which every key lives: key <c>a/b</c> is <c>/&lt;Root&gt;/a/b</c>. <value><c>controlplane</c>.</value></summary>
    public string Root { get; set; } = "controlplane";

    /// <summary>The session timeout asked for; the server may clamp it (see the failover budget).
    /// <value>10 s.</value></summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt to open a session may take. <value>10 s.</value></summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one request may wait for its answer. <value>10 s.</value></summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most requests a subtree read keeps in flight on the connection: the listing a watch starts with, and
    /// re-reads after a reconnect or when its backlog overflows. The read stays pipelined; whatever else uses the
    /// session's connection (commits, the election's requests, pings) waits behind at most this many. The default
    /// is half the server's default <c>globalOutstandingLimit</c> (1,000), beyond which the server throttles every
    /// connection. <value>512.</value></summary>
    public int SubtreeReadWindow { get; set; } = 512;

    /// <summary>Most distinct keys a subtree watch remembers to read. A watch takes each notification off the client's
    /// queue as it arrives and keeps the keys to read, once each, until its consumer asks for them; when more keys
    /// than this are waiting, it forgets them and re-reads the whole subtree instead (a resync, cheaper by then).
    /// About 150 bytes a key. <value>250,000.</value></summary>
    public int WatchBacklogLimit { get; set; } = 250_000;

    /// <summary>Events the ZooKeeper client buffers per watch before it ends the watch as overflowed
    /// (<see cref="ControlPlane.ZooKeeper.ZooKeeperClientOptions.WatchEventCapacity"/>). A subtree watch drains its
    /// events as they arrive, so this only has to cover the moments its draining task waits for a thread.
    /// <value>16,384.</value></summary>
    public int WatchEventCapacity { get; set; } = 16_384;

    /// <summary>TLS to the servers' secure client port (see <see cref="ControlPlane.ZooKeeper.ZooKeeperClientOptions.Tls"/>).
    /// <value>null: plaintext.</value></summary>
    public ControlPlane.ZooKeeper.ZooKeeperTlsOptions? Tls { get; set; }

    /// <summary>This process's identity: the session authenticates with digest <c>Username:Password</c> and creates
    /// nodes with least-privilege ACLs (docs/operations.md, "Identities and permissions"). Null: no auth, open ACLs.</summary>
    public string? Username { get; set; }

    /// <summary>The identity's password (never logged).</summary>
    public string? Password { get; set; }

    /// <summary>Clock for the store's retries (<see cref="Resilience.StoreRetries"/>) and its ZooKeeper client (session
    /// expiry, timeouts, reconnect pauses); <see cref="TimeProvider.System"/> when null.</summary>
    /// <value>null.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) || ConnectionString.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("ConnectionString lists host:port pairs without a chroot; use Root for the key prefix.", nameof(ConnectionString));
        }

        StoreKeys.Validate(Root, nameof(Root));
        foreach (var (name, value) in new[] { (nameof(SessionTimeout), SessionTimeout), (nameof(ConnectTimeout), ConnectTimeout), (nameof(RequestTimeout), RequestTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive.", name);
            }
        }

        foreach (var (name, value, max) in new[]
        {
            (nameof(SubtreeReadWindow), SubtreeReadWindow, 100_000),
            (nameof(WatchBacklogLimit), WatchBacklogLimit, 100_000_000),
            (nameof(WatchEventCapacity), WatchEventCapacity, 10_000_000),
        })
        {
            if (value < 1 || value > max)
            {
                throw new ArgumentException($"{name} must be between 1 and {max:N0}; got {value}.", name);
            }
        }
    }
}
