using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Hosting;

/// <summary>Starts connecting to the store when the host starts. The connection is a singleton the container
/// disposes after every hosted service has stopped, so the director's session (and its ephemeral keys) ends last.</summary>
/// <remarks>The connection is resolved in <see cref="StartAsync"/>, not injected: hosted services are created
/// before options are validated at start, and the connection's constructor would otherwise report only the
/// store's settings instead of every invalid setting.</remarks>
internal sealed class StoreConnectionHost(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Connecting runs in the background: the API answers 503 until the store is reached, /readyz says so.
        services.GetRequiredService<StoreConnection>().Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
