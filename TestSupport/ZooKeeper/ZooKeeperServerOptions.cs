namespace ControlPlane.TestSupport;

/// <summary>Settings of a test ZooKeeper server. The defaults suit fast session-expiry tests.</summary>
public sealed record ZooKeeperServerOptions
{
    /// <summary>ZooKeeper's basic time unit. <value>200 ms (the production default is 2 s).</value></summary>
    /// <remarks>The server clamps session timeouts to [2, 20] × tickTime unless the bounds below are set.</remarks>
    public TimeSpan TickTime { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Lower bound of negotiated session timeouts. <value>null: 2 × <see cref="TickTime"/>.</value></summary>
    public TimeSpan? MinSessionTimeout { get; init; }

    /// <summary>Upper bound of negotiated session timeouts. <value>null: 20 × <see cref="TickTime"/>.</value></summary>
    public TimeSpan? MaxSessionTimeout { get; init; }

    /// <summary>Whether the transaction log is fsynced. <value>true, as in production; benchmarks compare
    /// clients against the same server, so this only changes absolute figures.</value></summary>
    public bool ForceSync { get; init; } = true;

    /// <summary>Extra zoo.cfg lines (key → value), e.g. <c>globalOutstandingLimit</c>.</summary>
    public IReadOnlyDictionary<string, string> ExtraConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>Maximum Java heap of each server. <value>256 MiB.</value></summary>
    public int HeapMegabytes { get; init; } = 256;

    /// <summary>Whether each member also serves a TLS client port (<c>secureClientPort</c>, Netty) with certificates
    /// the fixture makes (<see cref="ZooKeeperEnsemble.Pki"/>), requiring client certificates. The plaintext port
    /// stays open on 127.0.0.1 for the fixture's four-letter-word probes. <value>false.</value></summary>
    public bool Tls { get; init; }

    /// <summary>With <see cref="Tls"/>: the CA and certificates to serve with (e.g. <see cref="TestPki.FromScriptAsync"/>).
    /// <value>null: the fixture makes them.</value></summary>
    public TestPki? Pki { get; init; }
}
