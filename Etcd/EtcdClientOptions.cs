namespace ControlPlane.Etcd;

/// <summary>Settings of an <see cref="EtcdClient"/>. Every default suits a local cluster; see each value.</summary>
public sealed class EtcdClientOptions
{
    /// <summary>Client endpoints as "host:port" separated by commas, e.g. "127.0.0.1:2379,127.0.0.1:22379".
    /// Dialled as cleartext h2c (<c>http</c>), or as <c>https</c> when <see cref="Tls"/> is set; an explicit
    /// <c>http://</c> or <c>https://</c> prefix must agree with that. Required.</summary>
    /// <value>Empty by default; <see cref="EtcdClient"/> throws if no endpoint is given.</value>
    public string Endpoints { get; set; } = "";

    /// <summary>User name for etcd auth; null when auth is off. The password is never logged.</summary>
    /// <value>null.</value>
    public string? Username { get; set; }

    /// <summary>Password for <see cref="Username"/>.</summary>
    /// <value>null.</value>
    public string? Password { get; set; }

    /// <summary>Total time budget of one unary call, retries and failover included; also sent as grpc-timeout.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time to establish a TCP connection to one endpoint, and to open a watch or keepalive stream.</summary>
    /// <value>2 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Interval of HTTP/2 keep-alive pings while streams are open. etcd refuses pings more often than
    /// every 5 s (GOAWAY too_many_pings), so smaller values are raised to 5 s.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a ping may go unanswered before the connection is considered dead and its streams
    /// are resumed elsewhere. Detects black-holed members that never reset the connection.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Upper bound of every retry pause of the client. Each retry is a named Polly pipeline on the client's
    /// <see cref="TimeProvider"/> whose pauses are Polly's decorrelated jitter (median 50 ms, doubling, never above
    /// this), so clients that failed together do not come back together:
    /// <list type="bullet">
    /// <item><c>etcd.call</c>: a unary call tries each endpoint in turn, the next one at once
    /// (<c>etcd.call.failover</c>), and pauses after a round in which every endpoint failed; at most three rounds,
    /// all within <see cref="RequestTimeout"/>. Only what is safe to repeat is: a write that may have reached a
    /// member never is. A rejected token is renewed and the attempt repeated at once, once per call
    /// (<c>etcd.call.reauthenticate</c>).</item>
    /// <item><c>etcd.watch.resume</c> and <c>etcd.keepalive.reconnect</c>: re-opening the shared watch or keepalive
    /// stream after it broke, until the client is disposed; a stream that had delivered is re-opened after one
    /// first pause, one that keeps failing waits longer each time.</item>
    /// </list>
    /// </summary>
    /// <value>1 second.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Capacity, in responses, of each watch's event channel. When a consumer falls this far behind,
    /// the shared watch stream waits for it (back-pressure) rather than dropping events.</summary>
    /// <value>1024.</value>
    public int WatchChannelCapacity { get; set; } = 1024;

    /// <summary>TLS to the members: server verification and an optional client certificate. Every endpoint is
    /// then dialled as <c>https</c>.</summary>
    /// <value>null: cleartext.</value>
    public EtcdTlsOptions? Tls { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Endpoints))
        {
            throw new ArgumentException("EtcdClientOptions.Endpoints must name at least one host:port.", nameof(Endpoints));
        }

        if (RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("EtcdClientOptions timeouts must be positive.");
        }

        if (MaxReconnectDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException(
                $"EtcdClientOptions.MaxReconnectDelay must be positive, was {MaxReconnectDelay}.", nameof(MaxReconnectDelay));
        }

        if (Username is not null && Password is null)
        {
            throw new ArgumentException("EtcdClientOptions.Password is required when Username is set.", nameof(Password));
        }

        if (WatchChannelCapacity < 1)
        {
            throw new ArgumentException("EtcdClientOptions.WatchChannelCapacity must be at least 1.", nameof(WatchChannelCapacity));
        }

        Tls?.Validate();
    }
}
