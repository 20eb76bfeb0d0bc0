using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Hosting;

/// <summary>Starts connecting to the store when the host starts. The connection is a singleton the container
/// disposes after every hosted service has stopped, so the director's session (and its ephemeral keys) ends last.</summary>
internal sealed class StoreConnectionHost(StoreConnection connection) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Connecting runs in the background: the API answers 503 until the store is reached, /readyz says so.
        connection.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
