using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The system under chaos: a 3-member store, 3 directors and 4 agents as processes. Every process reaches every
/// store member through a proxy of its own, so its store links can be paused or cut without touching anyone else's;
/// a killed process is started again under the same name, behind the same proxies.
/// </summary>
public sealed partial class ChaosCluster : IAsyncDisposable
{
    /// <summary>Directors started.</summary>
    public const int DirectorCount = 3;

    /// <summary>Agents started.</summary>
    public const int AgentCount = 4;

    /// <summary>Slots of each agent.</summary>
    public const int Slots = 4;

    // Retries back off 1 s doubling; capped low so a job that lost many attempts to faults still ends within the
    // run's drain deadline (the default cap is a minute). A line per HTTP request would cost the busy machine and
    // make the logs the leader check reads long.
    private static readonly string[] DirectorArguments =
        ["--Scheduler:MaxRetryBackoff=00:00:04", "--Logging:LogLevel:Microsoft.AspNetCore=Warning"];

    private readonly Dictionary<string, TcpProxy[]> _links = [];
    private readonly Dictionary<string, DirectorProcess> _directors = [];
    private readonly Dictionary<string, AppProcess> _agents = [];
    private readonly HashSet<string> _down = [];
    private readonly Lock _lock = new();
    private readonly string _root = TestNames.Unique("chaos");

    private ChaosCluster(E2eBackend backend, ServerCluster servers)
    {
        Backend = backend;
        Servers = servers;
    }

    /// <summary>The store's backend.</summary>
    public E2eBackend Backend { get; }

    /// <summary>The store members.</summary>
    public ServerCluster Servers { get; }

    /// <summary>The processes (every incarnation, with logs and execution logs).</summary>
    public ControlPlaneApps Apps { get; } = new("chaos");

    /// <summary>Director names.</summary>
    public static IReadOnlyList<string> DirectorNames { get; } = [.. Enumerable.Range(1, DirectorCount).Select(i => $"director-{i}")];

    /// <summary>Agent names (their <c>Agent:Id</c>).</summary>
    public static IReadOnlyList<string> AgentNames { get; } = [.. Enumerable.Range(1, AgentCount).Select(i => $"agent-{i}")];

    /// <summary>Every process name.</summary>
    public static IReadOnlyList<string> ProcessNames { get; } = [.. DirectorNames, .. AgentNames];

    /// <summary>Where the test itself reaches the store: every member directly, no proxy.</summary>
    public StoreTarget DirectTarget => new(Backend.Name, string.Join(',', Servers.Members.Select(m => m.ClientAddress)), _root, ChaosSettings.SessionTimeout);

    /// <summary>Starts the store, the proxies and every process, and waits until all agents are registered and a
    /// director leads.</summary>
    public static async Task<ChaosCluster> StartAsync(E2eBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var cluster = new ChaosCluster(backend, await backend.StartAsync(3));
        try
        {
            foreach (var name in ProcessNames)
            {
                cluster._links[name] = [.. cluster.Servers.Members.Select(m => TcpProxy.Start(m.ClientAddress))];
            }

            await Task.WhenAll(DirectorNames.Select(cluster.StartDirectorAsync));
            await Task.WhenAll(AgentNames.Select(cluster.StartAgentAsync));
            await cluster.WaitUntilWholeAsync(TimeSpan.FromMinutes(2));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Directors that are up and ready now (not killed, store session connected when last started).</summary>
    public IReadOnlyList<(string Name, DirectorClient Client)> LiveDirectors()
    {
        lock (_lock)
        {
            return [.. _directors.Where(d => !_down.Contains(d.Key)).Select(d => (d.Key, d.Value.Client))];
        }
    }

    /// <summary>The current incarnation of a director or agent.</summary>
    public AppProcess Process(string name)
    {
        lock (_lock)
        {
            return _directors.TryGetValue(name, out var director) ? director.Process : _agents[name];
        }
    }

    /// <summary>The proxies between <paramref name="process"/> and the store members.</summary>
    public IReadOnlyList<TcpProxy> Links(string process) => _links[process];

    /// <summary>The name of the leading director as a live director reports it; null when none is known.</summary>
    public async Task<(string Name, long Epoch)?> LeaderAsync()
    {
        foreach (var (_, client) in LiveDirectors())
        {
            try
            {
                if (await client.LeaderAsync() is { } leader)
                {
                    return (leader.DirectorId, leader.Epoch);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // This director cannot say; ask the next.
            }
        }

        return null;
    }

    /// <summary>True when the current incarnation of <paramref name="director"/> logged that it leads with
    /// <paramref name="epoch"/> and has not logged the end of that term since (a candidate whose session survived a
    /// suspension may lead again with the same epoch).</summary>
    public bool IsLeading(string director, long epoch)
    {
        var log = Process(director).LogTail(int.MaxValue);
        var e = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var began = log.LastIndexOf($"Scheduling as leader with epoch {e}", StringComparison.Ordinal);
        return began >= 0 && began > log.LastIndexOf($"Stopped scheduling (epoch {e})", StringComparison.Ordinal);
    }

    /// <summary>Waits until every agent is registered and a director leads, as a live director sees it.</summary>
    public async Task WaitUntilWholeAsync(TimeSpan timeout)
    {
        var seen = "nothing yet";
        await Eventually.UntilAsync(
            async () =>
            {
                var (_, client) = LiveDirectors()[0];
                var workers = await client.WorkersAsync();
                var leader = await client.LeaderAsync();
                seen = $"{workers.Count} workers ({string.Join(", ", workers.Select(w => w.Id))}), leader {leader?.DirectorId ?? "none"}";
                return workers.Count == AgentCount && leader is not null;
            },
            timeout,
            () => seen + "\n" + string.Join("\n---\n", ProcessNames.Select(n => $"{n}:\n{Process(n).LogTail(12)}")));
    }

    /// <summary>Kills the store, the processes and the proxies.</summary>
    public async ValueTask DisposeAsync()
    {
        await Apps.DisposeAsync();
        foreach (var proxy in _links.Values.SelectMany(p => p))
        {
            await proxy.DisposeAsync();
        }

        await Servers.DisposeAsync();
    }
}
