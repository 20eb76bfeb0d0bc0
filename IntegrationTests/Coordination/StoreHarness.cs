using ControlPlane.Coordination;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// What the conformance suite needs from a backend: real servers, and coordination stores connected to them
/// (directly or through a <see cref="TcpProxy"/>). One subclass per backend.
/// </summary>
public abstract class StoreHarness : IAsyncDisposable
{
    /// <summary>The session timeout (ZooKeeper) or lease TTL (etcd) the suite's stores ask for: short, so
    /// expiry tests are quick, and at etcd's practical minimum.</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The backend under test.</summary>
    public abstract StoreBackend Backend { get; }

    /// <summary>The servers.</summary>
    public abstract ServerCluster Servers { get; }

    /// <summary>Each member's client address (<c>127.0.0.1:port</c>).</summary>
    public IReadOnlyList<string> Addresses => Servers.Members.Select(m => m.ClientAddress).ToList();

    /// <summary>Connects a store rooted at <paramref name="root"/> to <paramref name="addresses"/> (default: every member).</summary>
    public abstract Task<ICoordinationStore> ConnectAsync(string root, IReadOnlyList<string>? addresses = null, TimeSpan? sessionTimeout = null);

    /// <summary>Forgets history up to now: watches from older revisions must resync. On ZooKeeper (which keeps
    /// no history) a no-op.</summary>
    public abstract Task CompactAsync(long revision);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Servers.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
