using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// A whole control plane for a benchmark: a store started for the run (ZooKeeper or etcd, stock timings), N
/// directors and M agents as separate processes of the real builds, all on loopback. Disposing stops everything.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private BenchCluster(ServerCluster servers, ControlPlaneApps apps, StoreTarget target)
    {
        Servers = servers;
        Apps = apps;
        Target = target;
    }

    public ServerCluster Servers { get; }

    public ControlPlaneApps Apps { get; }

    public StoreTarget Target { get; }

    public List<DirectorProcess> Directors { get; } = [];

    public List<AppProcess> Agents { get; } = [];

    /// <summary>Starts the store and the processes and waits until every agent is registered and a leader leads.</summary>
    public static async Task<BenchCluster> StartAsync(
        string backend, int directors, int agents, int slots, TimeSpan sessionTimeout, IEnumerable<string>? directorArguments = null,
        CancellationToken cancellationToken = default)
    {
        ServerCluster servers = backend switch
        {
            "zookeeper" => await ZooKeeperEnsemble.StartAsync(1, new ZooKeeperServerOptions { TickTime = TimeSpan.FromSeconds(1), HeapMegabytes = 1024 }, cancellationToken).ConfigureAwait(false),
            "etcd" => await EtcdCluster.StartAsync(1, cancellationToken: cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentException($"--backend is zookeeper or etcd, not '{backend}'."),
        };
        var target = new StoreTarget(backend, string.Join(',', servers.Members.Select(m => m.ClientAddress)), "bench", sessionTimeout);
        var cluster = new BenchCluster(servers, new ControlPlaneApps("bench"), target);
        var directorArgs = (directorArguments ?? []).Append("--Logging:LogLevel:Default=Warning").ToList();
        cluster.Directors.AddRange(await Task.WhenAll(Enumerable.Range(1, directors)
            .Select(i => cluster.Apps.StartDirectorAsync(target, $"director-{i}", directorArgs, cancellationToken))).ConfigureAwait(false));
        cluster.Agents.AddRange(await Task.WhenAll(Enumerable.Range(1, agents)
            .Select(i => cluster.Apps.StartAgentAsync(target, $"agent-{i}", slots, ["--Logging:LogLevel:Default=Warning"]))).ConfigureAwait(false));
        await cluster.WaitForWorkersAsync(agents, !directorArgs.Contains("--Director:Campaign=false")).ConfigureAwait(false);
        return cluster;
    }

    /// <summary>Waits (up to 2 min) until <paramref name="count"/> workers are registered and, unless
    /// <paramref name="leader"/> is false (directors started with <c>Director:Campaign=false</c>), a leader leads.</summary>
    public async Task WaitForWorkersAsync(int count, bool leader = true)
    {
        var client = Directors[0].Client;
        await Eventually.UntilAsync(
            async () => (await client.WorkersAsync().ConfigureAwait(false)).Count >= count && (!leader || await client.LeaderAsync().ConfigureAwait(false) is not null),
            TimeSpan.FromMinutes(2)).ConfigureAwait(false);
    }

    /// <summary>Stops every director (SIGTERM, so a leader hands over at once) and starts as many new ones with
    /// <paramref name="extraArguments"/> added, on the same store: the same directors under other settings.</summary>
    public async Task ReplaceDirectorsAsync(IEnumerable<string> extraArguments, CancellationToken cancellationToken)
    {
        var count = Directors.Count;
        foreach (var director in Directors)
        {
            await director.Process.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        Directors.Clear();
        var args = extraArguments.Append("--Logging:LogLevel:Default=Warning").ToList();
        Directors.AddRange(await Task.WhenAll(Enumerable.Range(1, count)
            .Select(i => Apps.StartDirectorAsync(Target, $"director-{i}b", args, cancellationToken))).ConfigureAwait(false));
    }

    /// <summary>CPU seconds the store's server processes have used so far.</summary>
    public double StoreCpuSeconds() => Servers.Members.Sum(m => m.ProcessId is { } pid ? BenchReport.CpuSeconds(pid) : 0);

    public async ValueTask DisposeAsync()
    {
        await Apps.DisposeAsync().ConfigureAwait(false);
        await Servers.DisposeAsync().ConfigureAwait(false);
    }
}
