using Xunit;

namespace ControlPlane.TestSupport;

/// <summary>
/// A single-member etcd shared by the tests of one xunit collection. Tests isolate themselves with a key
/// prefix from <see cref="TestNames.Unique"/>; tests that kill or pause servers start their own cluster.
/// </summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    private EtcdCluster? _server;

    /// <summary>The running server.</summary>
    public EtcdCluster Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>The server's endpoints (<c>127.0.0.1:port</c>).</summary>
    public string Endpoints => Server.Endpoints;

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await EtcdCluster.StartAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
