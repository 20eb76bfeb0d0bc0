using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>Store health on ZooKeeper: the quorum from <c>/zookeeper/config</c>, each member's <c>srvr</c>, and child counts.</summary>
public sealed partial class ZooKeeperCoordinationStore : IStoreHealth
{
    /// <summary>How long one member's <c>srvr</c> may take.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public async Task<StoreHealth> ReadHealthAsync(IReadOnlyList<string> parents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parents);
        var notes = new List<string>();
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);

        // The quorum as the servers know it ("server.N=host:quorum:election[:role];client" lines); empty when standalone.
        var endpoints = _options.ConnectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('/')[0]).ToList();
        var servers = new List<(string Name, string? Endpoint)>();
        try
        {
            var config = await client.GetDataAsync("/zookeeper/config", cancellationToken).ConfigureAwait(false);
            foreach (var line in Encoding.UTF8.GetString(config.Data).Split('\n', StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith("server.", StringComparison.Ordinal) && line.IndexOf('=', StringComparison.Ordinal) is var eq and > 7)
                {
                    var id = line[7..eq];
                    var host = line[(eq + 1)..].Split(':')[0];
                    // The client port follows ';' only with dynamic configuration; otherwise match the host among the endpoints.
                    var semicolon = line.LastIndexOf(';');
                    var endpoint = semicolon > 0 ? line[(semicolon + 1)..].Trim() : null;
                    if (endpoint is not null && endpoint.StartsWith("0.0.0.0:", StringComparison.Ordinal))
                    {
                        endpoint = host + endpoint[7..];
                    }

                    servers.Add(("server." + id, endpoint));
                }
            }
        }
        catch (ZooKeeperException e)
        {
            notes.Add($"the quorum configuration (/zookeeper/config) could not be read: {e.Message}");
        }

        var members = new List<StoreMemberHealth>();
        var unmatched = new Queue<string>(endpoints);
        if (servers.Count == 0)
        {
            // Standalone, or no configuration node: the configured endpoints are the members we know.
            servers.AddRange(endpoints.Select(e => (e, (string?)e)));
            unmatched.Clear();
        }
        else if (servers.All(s => s.Endpoint is null) && servers.Count == endpoints.Count)
        {
            // Static configuration lists peer ports only; with as many endpoints as servers, probe the endpoints in order.
            servers = [.. servers.Select((s, i) => (s.Name, (string?)endpoints[i]))];
        }

        foreach (var (name, endpoint) in servers)
        {
            members.Add(endpoint is null
                ? new StoreMemberHealth(name, null, false, null, null, "its client endpoint is not in Store:Endpoints, so it was not probed")
                : await ProbeAsync(name, endpoint, cancellationToken).ConfigureAwait(false));
        }

        if (members.Count > 0 && members.All(m => m.OutstandingRequests is null && m.Reachable))
        {
            notes.Add("outstanding requests unknown: the servers do not answer 'srvr' (add it to 4lw.commands.whitelist)");
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var chunk in parents.Chunk(64))
        {
            // Pipelined: one session answers in order, so 512 parents cost about one round trip per chunk.
            var stats = await Task.WhenAll(chunk.Select(p => client.ExistsAsync(PathOf(p), cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (stats[i] is { } stat)
                {
                    counts[chunk[i]] = stat.NumChildren;
                }
            }
        }

        return new StoreHealth(members, null, null, [], null, SeenRevision, counts, notes);
    }

    /// <summary>How many session timeouts a new session may fail to open before <see cref="CheckRolledBackAsync"/> asks
    /// the servers why: a follower behind by a few writes catches up in milliseconds, a restored one never does.</summary>
    private const int RolledBackAfter = 2;

    /// <summary>
    /// After new sessions have been refused for <see cref="RolledBackAfter"/> session timeouts: asks every server for its
    /// last zxid (<c>srvr</c>). When every server serves and is behind <paramref name="floor"/>, the highest zxid this
    /// process has seen, the ensemble went back in time (restored from a backup, or its newest data lost): logs it
    /// once and makes every later operation fail with <see cref="StoreRolledBackException"/>. The servers refuse the
    /// session anyway (the client sends <paramref name="floor"/> as its last zxid), so nothing acts on the older state;
    /// this says why. A server that does not serve, does not answer or is not behind leaves the question open (no
    /// quorum, or a lagging member), and the session is tried again.
    /// </summary>
    private async Task CheckRolledBackAsync(long floor, CancellationToken cancellationToken)
    {
        var endpoints = _options.ConnectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('/')[0]).ToList();
        var zxids = await Task.WhenAll(endpoints.Select(e => LastZxidAsync(e, cancellationToken))).ConfigureAwait(false);
        if (zxids.Length == 0 || zxids.Any(z => z is not { } zxid || zxid >= floor))
        {
            return;
        }

        var newest = zxids.Max(z => z!.Value);
        var error = new StoreRolledBackException(
            $"Every ZooKeeper server of {_options.ConnectionString} is at zxid 0x{newest.ToString("x", CultureInfo.InvariantCulture)} or below, " +
            $"behind zxid 0x{floor.ToString("x", CultureInfo.InvariantCulture)} that this process has already seen: the ensemble was restored from a " +
            "backup or lost its newest writes, and refuses this process's sessions. This process no longer uses it; restart it once the restore is intended.");
        if (Interlocked.CompareExchange(ref _rolledBack, error, null) is null)
        {
            ZooKeeperStoreLog.RolledBack(_logger, newest, floor, _options.ConnectionString);
        }
    }

    /// <summary>One server's last zxid from <c>srvr</c> (<c>Zxid: 0x...</c>); null when it does not serve or answer.</summary>
    private static async Task<long?> LastZxidAsync(string endpoint, CancellationToken cancellationToken)
    {
        string answer;
        try
        {
            answer = await SrvrAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or SocketException or IOException or TimeoutException)
        {
            return null;
        }

        var line = answer.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(l => l.StartsWith("Zxid: 0x", StringComparison.Ordinal));
        return line is not null && long.TryParse(line.AsSpan(8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var zxid)
            ? zxid
            : null;
    }

    /// <summary>Sends <c>srvr</c> to one member: its mode and outstanding requests, or why not.</summary>
    private static async Task<StoreMemberHealth> ProbeAsync(string name, string endpoint, CancellationToken cancellationToken)
    {
        string answer;
        try
        {
            answer = await SrvrAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or SocketException or IOException or TimeoutException)
        {
            return new StoreMemberHealth(name, endpoint, false, null, null, e.Message);
        }

        string? mode = null;
        long? outstanding = null;
        foreach (var line in answer.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("Mode: ", StringComparison.Ordinal))
            {
                mode = line[6..];
            }
            else if (line.StartsWith("Outstanding: ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(13), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                outstanding = value;
            }
        }

        if (mode is null)
        {
            // "srvr is not executed because it is not in the whitelist.", or "This ZooKeeper instance is not currently serving requests".
            var said = answer.Trim();
            return said.Contains("not currently serving", StringComparison.Ordinal)
                ? new StoreMemberHealth(name, endpoint, false, null, null, "it is not serving requests (no quorum?)")
                : new StoreMemberHealth(name, endpoint, true, null, null, $"'srvr' unavailable: {(said.Length > 120 ? said[..120] : said)}");
        }

        return new StoreMemberHealth(name, endpoint, true, mode, outstanding, null);
    }

    /// <summary>The four-letter word <c>srvr</c>, sent to <paramref name="endpoint"/> over its own TCP connection: the
    /// server's whole answer (it closes the connection after it), within <see cref="ProbeTimeout"/>.</summary>
    /// <exception cref="FormatException"><paramref name="endpoint"/> is not <c>host:port</c>.</exception>
    /// <exception cref="SocketException">The connection failed.</exception>
    /// <exception cref="IOException">The connection broke.</exception>
    /// <exception cref="TimeoutException">No whole answer within <see cref="ProbeTimeout"/>.</exception>
    private static async Task<string> SrvrAsync(string endpoint, CancellationToken cancellationToken)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException("not a host:port endpoint");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint[..colon], port, timeout.Token).ConfigureAwait(false);
            var stream = tcp.GetStream();
            await stream.WriteAsync("srvr"u8.ToArray(), timeout.Token).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {ProbeTimeout.TotalSeconds:0} s", e);
        }
    }
}
