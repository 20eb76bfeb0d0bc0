using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>The director API on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdDirectorApiTests(EtcdFixture fixture) : DirectorApiTests
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;
}
