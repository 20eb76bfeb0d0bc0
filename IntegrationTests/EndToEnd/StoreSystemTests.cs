using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// What the end-to-end tests with real processes share: a store of the subclass's backend (one member, or three for the
/// failover tests), started per test class instance, and the director and agent processes a test starts, stopped
/// before the store.
/// </summary>
public abstract class StoreSystemTests : IAsyncLifetime
{
    private readonly int _members;
    private ServerCluster? _servers;

    /// <summary>Creates the test class.</summary>
    /// <param name="output">The test's output.</param>
    /// <param name="appsName">Names the processes' fixture directory.</param>
    /// <param name="members">The store's members.</param>
    protected StoreSystemTests(ITestOutputHelper output, string appsName, int members = 1)
    {
        Output = output;
        Apps = new ControlPlaneApps(appsName);
        _members = members;
    }

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    /// <summary>The test's output.</summary>
    protected ITestOutputHelper Output { get; }

    /// <summary>The director and agent processes the test starts.</summary>
    protected ControlPlaneApps Apps { get; }

    /// <summary>The store's members, once <see cref="InitializeAsync"/> has started them.</summary>
    protected ServerCluster Servers => _servers ?? throw new InvalidOperationException("The store has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await Backend.StartAsync(_members);

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
