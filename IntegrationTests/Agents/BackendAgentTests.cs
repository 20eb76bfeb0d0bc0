using ControlPlane.TestSupport;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>The agent on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperAgentTests(ZooKeeperFixture fixture, ITestOutputHelper output) : AgentTestBase(output)
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}

/// <summary>The agent on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdAgentTests(EtcdFixture fixture, ITestOutputHelper output) : AgentTestBase(output)
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;

    /// <inheritdoc />
    protected override TimeSpan LongSessionTimeout => TimeSpan.FromSeconds(10);
}
