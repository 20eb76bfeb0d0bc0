using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// A whole control plane as separate processes, shared by the functional end-to-end tests of one backend: a
/// store, two directors, and three agents — <c>agent-a</c> (label zone=a, with its HTTP port for <c>/metrics</c> and
/// <c>/healthz</c>), <c>agent-b</c> (zone=b) and <c>agent-lean</c> (zone=lean, advertising only the <c>cancel</c>
/// feature). Tests submit independent jobs, so they share it safely.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private ServerCluster? _servers;

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    /// <summary>The processes.</summary>
    public ControlPlaneApps Apps { get; } = new("e2e");

    /// <summary>The store target the processes use.</summary>
    public StoreTarget Target { get; private set; } = null!;

    /// <summary>The directors.</summary>
    public IReadOnlyList<DirectorProcess> Directors { get; private set; } = [];

    /// <summary>Client of the first director.</summary>
    public DirectorClient Api => Directors[0].Client;

    /// <summary><c>agent-a</c>'s HTTP port (<c>Agent:Http:Port</c>): <c>/metrics</c> and <c>/healthz</c>.</summary>
    public Uri AgentHttp { get; } = new($"http://127.0.0.1:{ControlPlaneApps.FreePort()}");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _servers = await Backend.StartAsync();
        Target = Backend.Target(_servers, "e2e");
        Directors = await Task.WhenAll(
            Apps.StartDirectorAsync(Target, "director-1"),
            Apps.StartDirectorAsync(Target, "director-2"));
        await Task.WhenAll(
            Apps.StartAgentAsync(Target, "agent-a", extraArguments: ["--Agent:Labels:zone=a", $"--Agent:Http:Port={AgentHttp.Port}"]),
            Apps.StartAgentAsync(Target, "agent-b", extraArguments: ["--Agent:Labels:zone=b"]),
            Apps.StartAgentAsync(Target, "agent-lean", extraArguments: ["--Agent:Labels:zone=lean", "--Agent:Features:0=cancel"]));
        await Eventually.UntilAsync(
            async () => (await Api.WorkersAsync()).Count == 3 && await Api.LeaderAsync() is not null,
            TimeSpan.FromSeconds(60),
            () => string.Join("\n---\n", Apps.Processes.Select(p => $"{p.Name}:\n{p.LogTail(15)}")));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }
}

/// <summary>The cluster on ZooKeeper.</summary>
public sealed class ZooKeeperClusterFixture : ClusterFixture
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>The cluster on etcd.</summary>
public sealed class EtcdClusterFixture : ClusterFixture
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}

/// <summary>Functional end-to-end tests on ZooKeeper.</summary>
[CollectionDefinition(Name)]
public sealed class ZooKeeperClusterCollection : ICollectionFixture<ZooKeeperClusterFixture>
{
    /// <summary>Collection name.</summary>
    public const string Name = "e2e-zookeeper";
}

/// <summary>Functional end-to-end tests on etcd.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdClusterCollection : ICollectionFixture<EtcdClusterFixture>
{
    /// <summary>Collection name.</summary>
    public const string Name = "e2e-etcd";
}
