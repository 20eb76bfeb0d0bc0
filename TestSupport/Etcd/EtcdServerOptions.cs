namespace ControlPlane.TestSupport;

/// <summary>Settings of a test etcd cluster. The defaults make leader elections fast on loopback.</summary>
public sealed record EtcdServerOptions
{
    /// <summary>Raft heartbeat interval. <value>100 ms, etcd's default.</value></summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Raft election timeout. <value>1 s, etcd's default: shorter ones cause spurious elections
    /// on a busy 2-core machine.</value></summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Extra command-line flags for every member, e.g. <c>--auth-token-ttl=2</c>.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Whether the members serve their client URLs over TLS (https) with certificates the fixture makes
    /// (<see cref="EtcdCluster.Pki"/>), requiring client certificates (<c>--client-cert-auth</c>). Peers talk
    /// plaintext on loopback. <value>false.</value></summary>
    public bool Tls { get; init; }

    /// <summary>With <see cref="Tls"/>: the CA and certificates to serve with (e.g. <see cref="TestPki.FromScriptAsync"/>).
    /// <value>null: the fixture makes them.</value></summary>
    public TestPki? Pki { get; init; }
}
