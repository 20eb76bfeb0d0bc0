using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>The event stream on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperEventsTests(ZooKeeperFixture fixture) : EventsTests
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}

/// <summary>The event stream on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdEventsTests(EtcdFixture fixture) : EventsTests
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;
}
