using ControlPlane.Etcd;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Settings of an <see cref="EtcdCoordinationStore"/>: where etcd is, where the keys live, and the session TTL.</summary>
public sealed class EtcdStoreOptions
{
    /// <summary>Client endpoints as <c>host:port</c> separated by commas (cleartext, or https when <see cref="Tls"/> is set). Required.</summary>
    /// <value>Empty.</value>
    public string Endpoints { get; set; } = "";

    /// <summary>
    /// The key root: a store key <c>a/b</c> is the etcd key <c>/&lt;Root&gt;/a/b</c>, readable as is in
    /// <c>etcdctl get --prefix /controlplane/</c>. Same syntax as a store key (it may have several segments).
    /// </summary>
    /// <value><c>controlplane</c>.</value>
    public string Root { get; set; } = "controlplane";

    /// <summary>
    /// The TTL of the lease each session is (whole seconds, at least 2 s: etcd cannot keep shorter leases
    /// through a leader election). The client renews it every third of the TTL; ephemeral keys vanish this long
    /// after the process stops renewing.
    /// </summary>
    /// <value>10 seconds.</value>
    public TimeSpan SessionTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>etcd user name when auth is on; null otherwise.</summary>
    /// <value>null.</value>
    public string? Username { get; set; }

    /// <summary>Password of <see cref="Username"/>; never logged.</summary>
    /// <value>null.</value>
    public string? Password { get; set; }

    /// <summary>Time budget of one request, retries included (see <see cref="EtcdClientOptions.RequestTimeout"/>).
    /// A write that runs out of it fails with <see cref="StoreOutcomeUnknownException"/>.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time to connect to one endpoint and to open a stream (see <see cref="EtcdClientOptions.ConnectTimeout"/>).</summary>
    /// <value>2 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>HTTP/2 ping interval while streams are open; detects black-holed members (at least 5 s, etcd's limit).</summary>
    /// <value>10 seconds.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a ping may go unanswered before the connection is dropped and its streams resumed elsewhere.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS to the members (see <see cref="EtcdClientOptions.Tls"/>).</summary>
    /// <value>null: cleartext.</value>
    public EtcdTlsOptions? Tls { get; set; }

    /// <summary>Clock for session deadlines and retries; <see cref="TimeProvider.System"/> when null.</summary>
    /// <value>null.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting to fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Endpoints))
        {
            throw new ArgumentException("EtcdStoreOptions.Endpoints must name at least one host:port.", nameof(Endpoints));
        }

        StoreKeys.Validate(Root, nameof(Root));
        if (SessionTtl < TimeSpan.FromSeconds(2) || SessionTtl > TimeSpan.FromHours(1))
        {
            throw new ArgumentException(
                $"EtcdStoreOptions.SessionTtl {SessionTtl.TotalSeconds:0.###} s must be between 2 s and 1 h: shorter leases can expire during an etcd election.",
                nameof(SessionTtl));
        }
    }

    internal EtcdClientOptions ToClientOptions() => new()
    {
        Endpoints = Endpoints,
        Username = Username,
        Password = Password,
        RequestTimeout = RequestTimeout,
        ConnectTimeout = ConnectTimeout,
        KeepAliveInterval = KeepAliveInterval,
        KeepAliveTimeout = KeepAliveTimeout,
        Tls = Tls,
    };
}
