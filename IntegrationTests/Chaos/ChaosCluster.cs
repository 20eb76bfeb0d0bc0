using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The system under chaos: a 3-member store, 3 directors and 4 agents as processes, in one cell or several (the
/// agents spread over the cells in turn; every director campaigns in every cell, so leadership spreads and a killed
/// director's cells move). Every process reaches every store member through a proxy of its own, so its store links
/// can be paused or cut without touching anyone else's; a killed process is started again under the same name,
/// behind the same proxies.
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

    // With several cells: a restarted director finds the cells and takes its share back within seconds, not the
    // defaults' 5 s discovery and 10 s spread, so a short run sees leadership spread and move (docs/cells.md).
    private static readonly string[] CellDirectorArguments =
        ["--Director:CellDiscoveryInterval=00:00:00.500", "--Director:SpreadInterval=00:00:01"];

    private readonly Dictionary<string, TcpProxy[]> _links = [];
    private readonly Dictionary<string, DirectorProcess> _directors = [];
    private readonly Dictionary<string, AppProcess> _agents = [];
    private readonly HashSet<string> _down = [];
    private readonly Lock _lock = new();
    private readonly string _root = TestNames.Unique("chaos");

    private ChaosCluster(E2eBackend backend, ServerCluster servers, IReadOnlyList<string> cells)
    {
        Backend = backend;
        Servers = servers;
        Cells = cells;
    }

    /// <summary>The three cells of the chaos suite: the default one and two named ones.</summary>
    public static IReadOnlyList<string> ThreeCells { get; } = [Contracts.Cells.Default, "a", "b"];

    /// <summary>The cells, the default one first.</summary>
    public IReadOnlyList<string> Cells { get; }

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

    /// <summary>The cell of agent <paramref name="agent"/>: the cells in turn (agent-1 the first, agent-2 the second…).</summary>
    public string CellOf(string agent) => Cells[(int.Parse(agent.AsSpan("agent-".Length), System.Globalization.CultureInfo.InvariantCulture) - 1) % Cells.Count];

    /// <summary>Starts the store, the proxies and every process, and waits until all agents are registered and every
    /// cell has a leader.</summary>
    /// <param name="backend">The store.</param>
    /// <param name="cells">The cells (default: the default cell alone); the agents spread over them in turn.</param>
    public static async Task<ChaosCluster> StartAsync(E2eBackend backend, IReadOnlyList<string>? cells = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        cells ??= [Contracts.Cells.Default];
        if (cells.Count == 0 || cells[0] != Contracts.Cells.Default || cells.Any(c => !Contracts.Cells.IsValid(c)) || cells.Distinct().Count() != cells.Count)
        {
            throw new ArgumentException($"The cells are distinct valid names, the default cell first; got [{string.Join(", ", cells)}].", nameof(cells));
        }

        var cluster = new ChaosCluster(backend, await backend.StartAsync(3), cells);
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

    /// <summary>The name of the director leading <paramref name="cell"/> (the default cell when null) and its epoch, as
    /// a live director reports it; null when none is known.</summary>
    public async Task<(string Name, long Epoch)?> LeaderAsync(string? cell = null)
    {
        var query = cell is null or Contracts.Cells.Default ? "/v1/leader" : $"/v1/leader?cell={cell}";
        foreach (var (_, client) in LiveDirectors())
        {
            try
            {
                using var response = await client.Http.GetAsync(new Uri(query, UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var leader = ContractJson.Deserialize<LeaderView>(await response.Content.ReadAsByteArrayAsync());
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

    /// <summary>Every cell with its leader and epoch (null while it has none), as a live director lists them
    /// (<c>GET /v1/cells</c>).</summary>
    public async Task<IReadOnlyList<CellView>> CellsAsync()
    {
        var (_, client) = LiveDirectors()[0];
        using var response = await client.Http.GetAsync(new Uri("/v1/cells", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return ContractJson.Deserialize<List<CellView>>(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Waits until every agent is registered and every cell has a leader, as a live director sees it.</summary>
    public async Task WaitUntilWholeAsync(TimeSpan timeout)
    {
        var seen = "nothing yet";
        await Eventually.UntilAsync(
            async () =>
            {
                var (_, client) = LiveDirectors()[0];
                var workers = await client.WorkersAsync();
                var cells = await CellsAsync();
                seen = $"{workers.Count} workers ({string.Join(", ", workers.Select(w => $"{w.Id} in {w.Cell}"))}), " +
                       $"leaders {string.Join(", ", cells.Select(c => $"{c.Cell}: {c.Leader ?? "none"}"))}";
                return workers.Count == AgentCount && cells.Count == Cells.Count && cells.All(c => c.Leader is not null);
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
