using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>The director API on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperDirectorApiTests(ZooKeeperFixture fixture) : DirectorApiTests
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}
