using Xunit;

namespace ControlPlane.TestSupport;

/// <summary>
/// A standalone ZooKeeper shared by the tests of one xunit collection. Tests isolate themselves with a
/// chroot from <see cref="TestNames.Unique"/>; tests that kill or pause servers start their own ensemble.
/// </summary>
public sealed class ZooKeeperFixture : IAsyncLifetime
{
    private ZooKeeperEnsemble? _server;

    /// <summary>The running server.</summary>
    public ZooKeeperEnsemble Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>The server's connection string (no chroot).</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await ZooKeeperEnsemble.StartAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
