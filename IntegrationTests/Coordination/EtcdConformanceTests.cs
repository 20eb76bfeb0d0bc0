using ControlPlane.Coordination;
using ControlPlane.Coordination.Etcd;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>The coordination contract on etcd: the backend-neutral suite against real etcd members.</summary>
public sealed class EtcdConformanceTests(EtcdConformanceFixture fixture)
    : CoordinationConformanceTests(fixture.Harness), IClassFixture<EtcdConformanceFixture>
{
    /// <inheritdoc />
    protected override async Task<StoreHarness> StartHarnessAsync(int members) => await EtcdHarness.StartAsync(members);
}

/// <summary>One single-member etcd shared by the suite's tests; each test isolates itself under its own root.</summary>
public sealed class EtcdConformanceFixture : IAsyncLifetime
{
    private EtcdHarness? _harness;

    /// <summary>The shared harness.</summary>
    public EtcdHarness Harness => _harness ?? throw new InvalidOperationException("The fixture has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _harness = await EtcdHarness.StartAsync(1);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }
}

/// <summary>etcd servers for the conformance suite, and <see cref="EtcdCoordinationStore"/>s connected to them.</summary>
public sealed class EtcdHarness : StoreHarness
{
    private readonly EtcdCluster _cluster;

    private EtcdHarness(EtcdCluster cluster) => _cluster = cluster;

    /// <inheritdoc />
    public override StoreBackend Backend => StoreBackend.Etcd;

    /// <inheritdoc />
    public override ServerCluster Servers => _cluster;

    /// <summary>Starts <paramref name="members"/> etcd members.</summary>
    public static async Task<EtcdHarness> StartAsync(int members) => new(await EtcdCluster.StartAsync(members));

    /// <inheritdoc />
    public override async Task<ICoordinationStore> ConnectAsync(string root, IReadOnlyList<string>? addresses = null, TimeSpan? sessionTimeout = null) =>
        await EtcdCoordinationStore.ConnectAsync(new EtcdStoreOptions
        {
            Endpoints = string.Join(',', addresses ?? Addresses),
            Root = root,
            SessionTtl = sessionTimeout ?? SessionTimeout,
        });

    /// <inheritdoc />
    public override async Task CompactAsync(long revision)
    {
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = _cluster.Endpoints });
        try
        {
            await client.CompactAsync(revision, physical: true);
        }
        catch (EtcdCompactedException)
        {
            // Another test compacted further already: history before the revision is gone either way.
        }
    }
}
