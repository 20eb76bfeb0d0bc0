using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Hosting;

internal sealed partial class DirectorRuntime
{
    private readonly ShadowMetrics _shadowMetrics;
    private volatile ShadowRuntime? _shadow;

    /// <summary>The shadow this director runs (<c>Director:Mode=shadow</c>), once it follows its cell; null otherwise.</summary>
    public ShadowRuntime? Shadow => _shadow;

    /// <summary>A shadow director's life after its registration: no candidacy anywhere, its cell followed on a connection
    /// of its own (opened like a leader's scheduler connection, so the API's session stays free), until the director stops.</summary>
    private async Task RunShadowAsync(ICoordinationStore store, DirectorRecord record, CancellationToken stoppingToken)
    {
        await using var followConnection = new StoreConnection(_connection.Options, _loggerFactory, _time);
        followConnection.Start();
        var followStore = await WaitForStoreAsync(followConnection, stoppingToken).ConfigureAwait(false);
        if (followStore is null)
        {
            return;
        }

        var shadow = new ShadowRuntime(_directorOptions.ShadowCell, record, _scheduler, _shadowMetrics, _loggerFactory, _time);
        _shadow = shadow;
        try
        {
            await shadow.RunAsync(store, followStore, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _shadow = null;
        }
    }
}
