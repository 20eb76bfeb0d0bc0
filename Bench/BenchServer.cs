using ControlPlane.TestSupport;

namespace ControlPlane.Bench;

/// <summary>The ZooKeeper server a benchmark runs against: the one given with --servers, or (without it) a
/// standalone server started for the run (TestSupport's real ZooKeeper process) and stopped afterwards.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly ZooKeeperEnsemble? _owned;

    private BenchServer(string connectionString, ZooKeeperEnsemble? owned)
    {
        ConnectionString = connectionString;
        _owned = owned;
    }

    public string ConnectionString { get; }

    public static async Task<BenchServer> StartOrUseAsync(string? servers, CancellationToken cancellationToken)
    {
        if (servers is not null)
        {
            return new BenchServer(servers, null);
        }

        // ZooKeeper's stock tickTime (2 s): sessions may then ask for up to 40 s, as in production.
        var ensemble = await ZooKeeperEnsemble.StartAsync(1, new ZooKeeperServerOptions { TickTime = TimeSpan.FromSeconds(2), HeapMegabytes = 1024 }, cancellationToken)
            .ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"started a standalone ZooKeeper at {ensemble.ConnectionString}").ConfigureAwait(false);
        return new BenchServer(ensemble.ConnectionString, ensemble);
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
