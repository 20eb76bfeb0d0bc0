using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// What the end-to-end tests of cells, shadows and rollouts share: a one-member store of the subclass's backend, started
/// per test class instance, and the director and agent processes a test starts, stopped before the store.
/// </summary>
public abstract class OneStoreSystemTests : IAsyncLifetime
{
    private ServerCluster? _servers;

    /// <summary>Creates the test class.</summary>
    /// <param name="output">The test's output.</param>
    /// <param name="appsName">Names the processes' fixture directory.</param>
    protected OneStoreSystemTests(ITestOutputHelper output, string appsName)
    {
        Output = output;
        Apps = new ControlPlaneApps(appsName);
    }

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    /// <summary>The test's output.</summary>
    protected ITestOutputHelper Output { get; }

    /// <summary>The director and agent processes the test starts.</summary>
    protected ControlPlaneApps Apps { get; }

    /// <summary>The store, once <see cref="InitializeAsync"/> has started it.</summary>
    protected ServerCluster Servers => _servers ?? throw new InvalidOperationException("The store has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await Backend.StartAsync(1);

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
