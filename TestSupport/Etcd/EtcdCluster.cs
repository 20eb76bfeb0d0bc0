using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ControlPlane.TestSupport.Processes;

namespace ControlPlane.TestSupport;

/// <summary>
/// A real etcd 3.4 member or cluster (Debian <c>etcd-server</c>) as child processes on free 127.0.0.1 ports.
/// </summary>
/// <remarks>
/// Right after a member is killed the cluster may be electing a leader: writes can fail with
/// "request timed out" for an election timeout or so. Tests retry such writes with <see cref="Eventually"/>.
/// </remarks>
public sealed class EtcdCluster : ServerCluster
{
    /// <summary>Where the Debian package installs the server.</summary>
    public const string ServerBinary = "/usr/bin/etcd";

    /// <summary>Where the Debian package installs the command-line client.</summary>
    public const string CtlBinary = "/usr/bin/etcdctl";

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly EtcdServerOptions _options;
    private readonly int[] _peerPorts;
    private readonly string _token = "cp-" + Guid.NewGuid().ToString("N")[..12];
    private readonly HttpClient _probe = Probe;

    private EtcdCluster(int memberCount, EtcdServerOptions options, int[] ports)
        : base("etcd", memberCount, (dir, i) => CreateMember(dir, i, ports[i]))
    {
        _options = options;
        _peerPorts = ports[memberCount..];
        if (options.Tls)
        {
            Pki = options.Pki ?? TestPki.Create(Path.Combine(RootDirectory, "tls"), "etcd");
            _probe = new HttpClient(TlsProbeHandler(Pki), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(2) };
        }
    }

    /// <summary>The CA and certificates of the client URLs, when <see cref="EtcdServerOptions.Tls"/> is on.</summary>
    public TestPki? Pki { get; }

    private string Scheme => Pki is null ? "http" : "https";

    /// <summary>Every member's client address: <c>127.0.0.1:p1,127.0.0.1:p2,...</c>.</summary>
    public string Endpoints => string.Join(',', Members.Select(m => m.ClientAddress));

    /// <summary>Starts the members and waits (up to a minute) until each reports itself healthy.</summary>
    /// <exception cref="FileNotFoundException">The <c>etcd-server</c> package is not installed (./test.sh installs it).</exception>
    public static Task<EtcdCluster> StartAsync(
        int members = 1, EtcdServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(ServerBinary))
        {
            throw new FileNotFoundException(
                $"etcd is not installed ({ServerBinary} missing): run ./test.sh or `apt-get install etcd-server etcd-client`.", ServerBinary);
        }

        var resolved = options ?? new EtcdServerOptions();
        return StartAsync(() => new EtcdCluster(members, resolved, PortAllocator.Allocate(2 * members)), cancellationToken);
    }

    /// <summary>Runs <c>etcdctl</c> (API v3) against the running members and returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">etcdctl failed; the message holds its standard error.</exception>
    public Task<string> EtcdCtlAsync(params string[] args)
    {
        var endpoints = string.Join(',', Members.Where(m => m.IsRunning).Select(m => $"{Scheme}://{m.ClientAddress}"));
        List<string> all = [$"--endpoints={endpoints}", "--command-timeout=10s"];
        if (Pki is not null)
        {
            // As docs/operations.md ("TLS") shows etcdctl against a TLS cluster.
            all.AddRange([$"--cacert={Pki.CaFile}", $"--cert={Pki.Client.CertFile}", $"--key={Pki.Client.KeyFile}"]);
        }

        return RunCtlAsync([.. all, .. args]);
    }

    private static async Task<string> RunCtlAsync(params string[] args)
    {
        var info = new ProcessStartInfo(CtlBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ETCDCTL_API"] = "3";
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start etcdctl.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"etcdctl {string.Join(' ', args)} did not finish within 30 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"etcdctl {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
        }

        return await stdout.ConfigureAwait(false);
    }

    /// <summary>Saves a snapshot of the running cluster to <paramref name="path"/> (<c>etcdctl snapshot save</c>).</summary>
    public Task SaveSnapshotAsync(string path) => EtcdCtlAsync("snapshot", "save", path);

    /// <summary>
    /// Restores the whole cluster from <paramref name="snapshot"/>, as docs/operations.md's runbook does: stops every member,
    /// replaces each member's data directory with <c>etcdctl snapshot restore</c> (same name, peer URLs and cluster
    /// token), and starts them all again. The store's revision goes back to the snapshot's.
    /// </summary>
    public async Task RestoreSnapshotAsync(string snapshot)
    {
        var all = Enumerable.Range(0, Members.Count).ToList();
        foreach (var index in all)
        {
            await StopAsync(index).ConfigureAwait(false);
        }

        var cluster = string.Join(',', Members.Select(m => $"{m.Name}={PeerUrl(m.Index)}"));
        foreach (var member in Members)
        {
            System.IO.Directory.Delete(member.DataDirectory, recursive: true);
            await RunCtlAsync(
                "snapshot", "restore", snapshot,
                $"--data-dir={member.DataDirectory}",
                $"--name={member.Name}",
                $"--initial-cluster={cluster}",
                $"--initial-cluster-token={_token}",
                $"--initial-advertise-peer-urls={PeerUrl(member.Index)}").ConfigureAwait(false);
        }

        await StartMembersAsync(all).ConfigureAwait(false);
    }

    private protected override (string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string>? Environment)
        CommandFor(ServerMember member)
    {
        var peer = PeerUrl(member.Index);
        var client = $"{Scheme}://{member.ClientAddress}";
        var cluster = string.Join(',', Members.Select(m => $"{m.Name}={PeerUrl(m.Index)}"));
        List<string> args =
        [
            $"--name={member.Name}",
            $"--data-dir={member.DataDirectory}",
            $"--listen-client-urls={client}",
            $"--advertise-client-urls={client}",
            $"--listen-peer-urls={peer}",
            $"--initial-advertise-peer-urls={peer}",
            $"--initial-cluster={cluster}",
            // Ignored once the data directory exists, so a restarted member rejoins rather than bootstraps.
            "--initial-cluster-state=new",
            $"--initial-cluster-token={_token}",
            $"--heartbeat-interval={(int)_options.HeartbeatInterval.TotalMilliseconds}",
            $"--election-timeout={(int)_options.ElectionTimeout.TotalMilliseconds}",
            "--logger=zap",
            "--log-outputs=stderr",
        ];
        if (Pki is not null)
        {
            // Client TLS as docs/operations.md ("TLS") shows it: the server's certificate and key, and client
            // certificates required, signed by the CA.
            args.Add($"--cert-file={Pki.Server.CertFile}");
            args.Add($"--key-file={Pki.Server.KeyFile}");
            args.Add("--client-cert-auth");
            args.Add($"--trusted-ca-file={Pki.CaFile}");
        }

        args.AddRange(_options.ExtraArguments);
        // The data directory (under cp-fixtures) in the command line is what test.sh looks for to find
        // servers a run left behind.
        return (ServerBinary, args, null);
    }

    private protected override async Task<bool> IsServingAsync(ServerMember member, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _probe.GetAsync(new Uri($"{Scheme}://{member.ClientAddress}/health"), cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode && body.Contains("\"true\"", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private protected override void OnDisposed()
    {
        if (!ReferenceEquals(_probe, Probe))
        {
            _probe.Dispose();
        }
    }

    private static SocketsHttpHandler TlsProbeHandler(TestPki pki)
    {
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(pki.CaFile);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trusted);
        return new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = policy,
                ClientCertificates = [X509Certificate2.CreateFromPemFile(pki.Client.CertFile, pki.Client.KeyFile)],
            },
        };
    }

    private static ServerMember CreateMember(FixtureDirectory dir, int index, int clientPort)
    {
        var name = "m" + (index + 1).ToString(CultureInfo.InvariantCulture);
        var home = dir.Sub(name);
        return new ServerMember(index, name, clientPort, Path.Combine(home, "data"), Path.Combine(home, "server.log"));
    }

    private string PeerUrl(int index) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_peerPorts[index]}");
}
