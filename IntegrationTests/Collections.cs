using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests;

/// <summary>Tests that share one standalone ZooKeeper; each isolates itself under its own chroot.</summary>
[CollectionDefinition(Name)]
public sealed class ZooKeeperCollection : ICollectionFixture<ZooKeeperFixture>
{
    /// <summary>The collection name for <c>[Collection(ZooKeeperCollection.Name)]</c>.</summary>
    public const string Name = "zookeeper";
}

/// <summary>Tests that share one single-member etcd; each isolates itself under its own key prefix.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    /// <summary>The collection name for <c>[Collection(EtcdCollection.Name)]</c>.</summary>
    public const string Name = "etcd";
}
