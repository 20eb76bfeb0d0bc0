using ControlPlane.Coordination;
using ControlPlane.Coordination.ZooKeeper;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>Real ZooKeeper servers for the conformance suite.</summary>
public sealed class ZooKeeperHarness : StoreHarness
{
    private readonly ZooKeeperEnsemble _ensemble;

    private ZooKeeperHarness(ZooKeeperEnsemble ensemble) => _ensemble = ensemble;

    /// <inheritdoc />
    public override StoreBackend Backend => StoreBackend.ZooKeeper;

    /// <inheritdoc />
    public override ServerCluster Servers => _ensemble;

    /// <summary>Starts <paramref name="members"/> servers (tickTime 200 ms: session timeouts from 0.4 to 4 s).</summary>
    public static async Task<ZooKeeperHarness> StartAsync(int members) => new(await ZooKeeperEnsemble.StartAsync(members));

    /// <inheritdoc />
    public override async Task<ICoordinationStore> ConnectAsync(string root, IReadOnlyList<string>? addresses = null, TimeSpan? sessionTimeout = null) =>
        await ZooKeeperCoordinationStore.ConnectAsync(new ZooKeeperStoreOptions
        {
            ConnectionString = string.Join(',', addresses ?? Addresses),
            Root = root,
            SessionTimeout = sessionTimeout ?? SessionTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            RequestTimeout = TimeSpan.FromSeconds(10),
        });

    /// <inheritdoc />
    public override Task CompactAsync(long revision) => Task.CompletedTask;
}

/// <summary>One ZooKeeper shared by the conformance tests of a run.</summary>
public sealed class ZooKeeperHarnessFixture : IAsyncLifetime
{
    /// <summary>The shared single-server harness.</summary>
    public ZooKeeperHarness Harness { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Harness = await ZooKeeperHarness.StartAsync(1);

    /// <inheritdoc />
    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>The coordination contract on ZooKeeper.</summary>
public sealed class ZooKeeperConformanceTests(ZooKeeperHarnessFixture fixture)
    : CoordinationConformanceTests(fixture.Harness), IClassFixture<ZooKeeperHarnessFixture>
{
    /// <inheritdoc />
    protected override async Task<StoreHarness> StartHarnessAsync(int members) => await ZooKeeperHarness.StartAsync(members);
}
