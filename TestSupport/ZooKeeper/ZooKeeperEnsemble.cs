using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ControlPlane.TestSupport.Processes;

namespace ControlPlane.TestSupport;

/// <summary>
/// A real ZooKeeper 3.8 server (<c>members == 1</c>, standalone) or ensemble, run from the Debian
/// <c>zookeeper</c> package's jar as child processes on free 127.0.0.1 ports.
/// </summary>
/// <remarks>
/// Extended types (TTL nodes) and every four-letter word are enabled; the admin server and JMX are off;
/// <c>maxClientCnxns</c> is unlimited so thousands of sessions from one test process are accepted.
/// </remarks>
public sealed class ZooKeeperEnsemble : ServerCluster
{
    /// <summary>Where the Debian package installs the server jar.</summary>
    public const string ServerJar = "/usr/share/java/zookeeper.jar";

    private const string LoggerJar = "/usr/share/java/slf4j-simple.jar";
    private const string NettyCodecJar = "/usr/share/java/netty-codec.jar";
    private readonly ZooKeeperServerOptions _options;
    private readonly int[] _quorumPorts;
    private readonly int[] _electionPorts;
    private readonly int[] _securePorts;

    private ZooKeeperEnsemble(int memberCount, ZooKeeperServerOptions options, int[] ports)
        : base("zookeeper", memberCount, (dir, i) => CreateMember(dir, i, ports[i]))
    {
        _options = options;
        _quorumPorts = ports[memberCount..(2 * memberCount)];
        _electionPorts = ports[(2 * memberCount)..(3 * memberCount)];
        _securePorts = ports[(3 * memberCount)..];
        Pki = options.Tls ? options.Pki ?? TestPki.Create(Path.Combine(RootDirectory, "tls"), "zookeeper") : null;
        foreach (var member in Members)
        {
            WriteConfig(member);
        }
    }

    /// <summary>Every member's client address: <c>127.0.0.1:p1,127.0.0.1:p2,...</c>.</summary>
    public string ConnectionString => string.Join(',', Members.Select(m => m.ClientAddress));

    /// <summary>The CA and certificates of the TLS port, when <see cref="ZooKeeperServerOptions.Tls"/> is on.</summary>
    public TestPki? Pki { get; }

    /// <summary>Every member's TLS client address (<c>secureClientPort</c>), when <see cref="ZooKeeperServerOptions.Tls"/> is on.</summary>
    /// <exception cref="InvalidOperationException">The ensemble has no TLS port.</exception>
    public string SecureConnectionString => Pki is null
        ? throw new InvalidOperationException("Started without ZooKeeperServerOptions.Tls.")
        : string.Join(',', _securePorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{p}")));

    /// <summary>Starts the servers and waits (up to a minute) until every member serves.</summary>
    /// <exception cref="FileNotFoundException">The <c>zookeeper</c> package is not installed (./test.sh installs it).</exception>
    public static Task<ZooKeeperEnsemble> StartAsync(
        int members = 1, ZooKeeperServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(ServerJar))
        {
            throw new FileNotFoundException(
                $"ZooKeeper is not installed ({ServerJar} missing): run ./test.sh or `apt-get install zookeeper`.", ServerJar);
        }

        var resolved = options ?? new ZooKeeperServerOptions();
        return StartAsync(() => new ZooKeeperEnsemble(members, resolved, PortAllocator.Allocate((resolved.Tls ? 4 : 3) * members)), cancellationToken);
    }

    /// <summary>Sends a four-letter word (<c>srvr</c>, <c>ruok</c>, <c>cons</c>, <c>mntr</c>, ...) to member
    /// <paramref name="index"/> and returns its answer.</summary>
    /// <exception cref="SocketException">The member is down.</exception>
    public async Task<string> FourLetterWordAsync(int index, string command, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(command.Length, 4);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Members[index].ClientPort, timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <summary>The member's role from <c>srvr</c>: <c>standalone</c>, <c>leader</c>, <c>follower</c>, or null when
    /// it is down or not serving (no quorum).</summary>
    public async Task<string?> ModeAsync(int index, CancellationToken cancellationToken = default)
    {
        try
        {
            var answer = await FourLetterWordAsync(index, "srvr", cancellationToken).ConfigureAwait(false);
            const string prefix = "Mode: ";
            var line = answer.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            return line?[prefix.Length..].Trim();
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private protected override (string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string>? Environment)
        CommandFor(ServerMember member) => ("java",
        [
            $"-Xmx{_options.HeapMegabytes}m",
            "-XX:+UseSerialGC",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.admin.enableServer=false",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.showDateTime=true",
            $"-Dzookeeper.forceSync={(_options.ForceSync ? "yes" : "no")}",
            // Marks the process as ours, so test.sh can find servers a run left behind.
            $"-Dcp.fixture={RootDirectory}",
            // The Netty connection factory (TLS) needs netty-codec, which the server jar's manifest does not list.
            "-cp", _options.Tls ? $"{ServerJar}:{NettyCodecJar}:{LoggerJar}" : $"{ServerJar}:{LoggerJar}",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            ConfigPath(member),
        ], null);

    private protected override async Task<bool> IsServingAsync(ServerMember member, CancellationToken cancellationToken) =>
        await ModeAsync(member.Index, cancellationToken).ConfigureAwait(false) is "standalone" or "leader" or "follower";

    private static ServerMember CreateMember(FixtureDirectory dir, int index, int clientPort)
    {
        var name = (index + 1).ToString(CultureInfo.InvariantCulture);
        var home = dir.Sub($"zk{name}");
        return new ServerMember(index, name, clientPort, Path.Combine(home, "data"), Path.Combine(home, "server.log"));
    }

    private static string ConfigPath(ServerMember member) =>
        Path.Combine(Path.GetDirectoryName(member.DataDirectory)!, "zoo.cfg");

    private void WriteConfig(ServerMember member)
    {
        Directory.Sub(Path.Combine($"zk{member.Name}", "data"));
        File.WriteAllText(Path.Combine(member.DataDirectory, "myid"), member.Name + "\n");

        var tick = (int)_options.TickTime.TotalMilliseconds;
        var config = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"tickTime={tick}")
            // Generous join limits in ticks: JVMs on a busy 2-core machine start slowly.
            .AppendLine(CultureInfo.InvariantCulture, $"initLimit={Math.Max(10, 20_000 / tick)}")
            .AppendLine(CultureInfo.InvariantCulture, $"syncLimit={Math.Max(5, 4_000 / tick)}")
            .AppendLine(CultureInfo.InvariantCulture, $"dataDir={member.DataDirectory}")
            .AppendLine(CultureInfo.InvariantCulture, $"clientPort={member.ClientPort}")
            .AppendLine("clientPortAddress=127.0.0.1")
            .AppendLine("maxClientCnxns=0")
            .AppendLine("4lw.commands.whitelist=*")
            .AppendLine("admin.enableServer=false")
            .AppendLine("reconfigEnabled=false");
        if (_options.MinSessionTimeout is { } min)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"minSessionTimeout={(int)min.TotalMilliseconds}");
        }

        if (_options.MaxSessionTimeout is { } max)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"maxSessionTimeout={(int)max.TotalMilliseconds}");
        }

        if (Members.Count > 1)
        {
            for (var i = 0; i < Members.Count; i++)
            {
                config.AppendLine(CultureInfo.InvariantCulture,
                    $"server.{Members[i].Name}=127.0.0.1:{_quorumPorts[i]}:{_electionPorts[i]}");
            }
        }

        if (Pki is not null)
        {
            // The secure client port as docs/operations.md ("TLS") shows it: Netty, PEM key and trust stores,
            // client certificates required.
            config.AppendLine(CultureInfo.InvariantCulture, $"secureClientPort={_securePorts[member.Index]}")
                .AppendLine("secureClientPortAddress=127.0.0.1")
                .AppendLine("serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory")
                .AppendLine(CultureInfo.InvariantCulture, $"ssl.keyStore.location={Pki.Server.BundleFile}")
                .AppendLine("ssl.keyStore.type=PEM")
                .AppendLine(CultureInfo.InvariantCulture, $"ssl.trustStore.location={Pki.CaFile}")
                .AppendLine("ssl.trustStore.type=PEM")
                .AppendLine("ssl.clientAuth=need");
        }

        foreach (var (key, value) in _options.ExtraConfig)
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"{key}={value}");
        }

        File.WriteAllText(ConfigPath(member), config.ToString());
    }
}
