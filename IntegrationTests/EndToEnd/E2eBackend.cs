using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>Starts a store of one backend for end-to-end tests and says how directors and agents reach it.</summary>
public abstract class E2eBackend
{
    /// <summary>Session timeout of every director and agent in these tests: the ZooKeeper fixture's maximum
    /// (20 ticks of 200 ms), short so failovers are quick.</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(4);

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Starts a store with <paramref name="members"/> members.</summary>
    public abstract Task<ServerCluster> StartAsync(int members = 1);

    /// <summary>The target for processes: every member, a fresh root.</summary>
    public StoreTarget Target(ServerCluster servers, string root)
    {
        ArgumentNullException.ThrowIfNull(servers);
        return new(Name, string.Join(',', servers.Members.Select(m => m.ClientAddress)), root, SessionTimeout);
    }

    /// <summary>ZooKeeper 3.8.</summary>
    public static E2eBackend ZooKeeper { get; } = new ZooKeeperBackend();

    /// <summary>etcd 3.4.</summary>
    public static E2eBackend Etcd { get; } = new EtcdBackend();

    private sealed class ZooKeeperBackend : E2eBackend
    {
        public override string Name => "zookeeper";

        public override async Task<ServerCluster> StartAsync(int members = 1) => await ZooKeeperEnsemble.StartAsync(members);
    }

    private sealed class EtcdBackend : E2eBackend
    {
        public override string Name => "etcd";

        public override async Task<ServerCluster> StartAsync(int members = 1) => await EtcdCluster.StartAsync(members);
    }
}
