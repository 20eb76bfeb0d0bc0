using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// TLS to the store (issue 18) on a real server started with the fixtures' TLS option (certificates made at run
/// time): a director and an agent as processes over TLS with client certificates run a job to success (the director's
/// API over HTTPS as well, read by cpctl); a client
/// whose certificate another CA signed, and a client that does not trust the server's CA, are refused with a
/// <see cref="StoreTlsException"/> that says TLS and why; the server-name override is checked; and the certificates
/// docs/operations.md's <c>openssl</c> commands make (run as written) work with the server settings it shows.
/// One server per class (<see cref="StoreTlsFixture"/>; each test works under a root of its own), and one more for
/// the documented certificates.
/// </summary>
public abstract class StoreTlsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ITestOutputHelper _output;
    private readonly StoreTlsFixture _fixture;

    /// <summary>Creates the test class.</summary>
    protected StoreTlsTests(StoreTlsFixture fixture, ITestOutputHelper output) => (_fixture, _output) = (fixture, output);

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    private ServerCluster Servers => _fixture.Servers;

    private TestPki Pki => _fixture.Pki;

    /// <summary>A CA the server does not know, with its own client certificate.</summary>
    private TestPki Rogue => _fixture.Rogue;

    private Task<ServerCluster> StartTlsAsync(TestPki pki) => _fixture.StartTlsAsync(pki);

    private string TlsEndpointsOf(ServerCluster servers) => _fixture.TlsEndpointsOf(servers);

    [Fact]
    public async Task A_director_and_an_agent_over_TLS_with_client_certificates_run_a_job_to_success()
    {
        await using var apps = new ControlPlaneApps($"tls-{Backend}");
        var target = new StoreTarget(Backend, TlsEndpointsOf(Servers), TestNames.Unique("tls"), E2eBackend.SessionTimeout)
        {
            Tls = new StoreTargetTls(Pki.CaFile, Pki.Client.CertFile, Pki.Client.KeyFile),
        };
        // The API over HTTPS too, with a certificate of the same fixture CA (Kestrel's own settings).
        var director = await apps.StartDirectorAsync(target, "director-tls", https: Pki.Server, httpsCaFile: Pki.CaFile);
        Assert.Equal(Uri.UriSchemeHttps, director.Url.Scheme);
        await apps.StartAgentAsync(target, "agent-tls");
        await Eventually.UntilAsync(
            async () => (await director.Client.WorkersAsync()).Count == 1,
            Deadline,
            () => string.Join("\n---\n", apps.Processes.Select(p => $"{p.Name}:\n{p.LogTail(15)}")));

        var job = await director.Client.SubmitAsync(new JobSpec { Executor = "echo", Args = JsonDocument.Parse("""{"greeting":"over tls"}""").RootElement });
        var done = await director.Client.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Contains("over tls", done.Output, StringComparison.Ordinal);

        // cpctl over HTTPS, trusting the API's CA through SSL_CERT_FILE (docs/operations.md, "TLS").
        var cli = await ControlPlaneApps.RunCliAsync(["get", job.Id], new Dictionary<string, string>
        {
            ["CONTROLPLANE_URL"] = director.Url.ToString(),
            ["CONTROLPLANE_TOKEN"] = director.Token,
            ["SSL_CERT_FILE"] = Pki.CaFile,
        });
        Assert.True(cli.ExitCode == 0, $"cpctl get exited {cli.ExitCode}: {cli.Error}");
        Assert.Contains(job.Id, cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_certificate_signed_by_another_CA_is_refused_with_a_TLS_error()
    {
        var options = Options(Pki.CaFile, Rogue.Client.CertFile, Rogue.Client.KeyFile);

        var error = await Assert.ThrowsAsync<StoreTlsException>(() => ConnectAsync(options));

        _output.WriteLine(error.ToString());
        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
        Assert.Contains("certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_servers_CA_is_refused_with_a_TLS_error_saying_why()
    {
        var options = Options(Rogue.CaFile, Pki.Client.CertFile, Pki.Client.KeyFile);

        var error = await Assert.ThrowsAsync<StoreTlsException>(() => ConnectAsync(options));

        _output.WriteLine(error.ToString());
        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("certificate chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_name_override_is_what_the_servers_certificate_must_name()
    {
        var right = Options(Pki.CaFile, Pki.Client.CertFile, Pki.Client.KeyFile);
        right.Tls.ServerName = TestPki.ServerDnsName;
        await using (var store = await ConnectAsync(right))
        {
            await store.CommitAsync(new Transaction().Create("tls-probe", "ok"u8.ToArray()));
        }

        var wrong = Options(Pki.CaFile, Pki.Client.CertFile, Pki.Client.KeyFile);
        wrong.Tls.ServerName = "elsewhere.test";
        var error = await Assert.ThrowsAsync<StoreTlsException>(() => ConnectAsync(wrong));

        _output.WriteLine(error.ToString());
        Assert.Contains("RemoteCertificateNameMismatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificates_made_by_the_documented_openssl_commands_work_with_the_documented_server_settings()
    {
        var directory = Path.Combine(Servers.RootDirectory, "documented");
        var pki = await TestPki.FromScriptAsync(directory, DocumentedCertificateScript());
        await using var servers = await StartTlsAsync(pki);
        var options = Options(pki.CaFile, pki.Client.CertFile, pki.Client.KeyFile);
        options.Endpoints = TlsEndpointsOf(servers);

        await using var store = await ConnectAsync(options);
        await store.CommitAsync(new Transaction().Create("documented", "ok"u8.ToArray()));

        var refused = Options(pki.CaFile, Pki.Client.CertFile, Pki.Client.KeyFile);
        refused.Endpoints = TlsEndpointsOf(servers);
        await Assert.ThrowsAsync<StoreTlsException>(() => ConnectAsync(refused));
    }

    /// <summary>The <c>sh</c> block under "### Certificates" in docs/operations.md, as it stands.</summary>
    private static string DocumentedCertificateScript()
    {
        var text = File.ReadAllText(Path.Combine(Dashboard.DashboardBrowser.RepositoryRoot(), "docs", "operations.md"));
        var section = text.IndexOf("### Certificates", StringComparison.Ordinal);
        var start = section < 0 ? -1 : text.IndexOf("```sh\n", section, StringComparison.Ordinal);
        var end = start < 0 ? -1 : text.IndexOf("```\n", start + 6, StringComparison.Ordinal);
        return end < 0
            ? throw new InvalidOperationException("docs/operations.md has no ```sh block under '### Certificates'.")
            : text[(start + 6)..end];
    }

    private StoreOptions Options(string caFile, string certFile, string keyFile) => new()
    {
        Backend = Backend,
        Endpoints = TlsEndpointsOf(Servers),
        Root = TestNames.Unique("tls"),
        SessionTimeout = E2eBackend.SessionTimeout,
        Tls = new StoreTlsOptions { CaFile = caFile, CertFile = certFile, KeyFile = keyFile },
    };

    /// <summary>Connects; a TLS refusal is thrown at once, while a connection that merely found no session in time (a
    /// freshly started server whose TLS port is still warming up on a loaded machine) is tried again until the deadline.</summary>
    private static async Task<ICoordinationStore> ConnectAsync(StoreOptions options)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await options.ConnectAsync(cancellationToken: timeout.Token);
            }
            catch (StoreException e) when (e is not StoreTlsException && !timeout.IsCancellationRequested && attempt < 5)
            {
                // Tried again at once: the connect itself waited its whole connect timeout.
            }
        }
    }
}

/// <summary>
/// The TLS server that every test of one <see cref="StoreTlsTests"/> class shares (a server per test cost a server
/// start each, a JVM on ZooKeeper): started once for the class, with a rogue CA beside it; one subclass per backend.
/// </summary>
public abstract class StoreTlsFixture : IAsyncLifetime
{
    private ServerCluster? _servers;
    private TestPki? _rogue;

    /// <summary>The shared TLS server.</summary>
    public ServerCluster Servers => _servers ?? throw new InvalidOperationException("not started");

    /// <summary>The shared server's CA and certificates.</summary>
    public TestPki Pki => PkiOf(Servers);

    /// <summary>A CA the server does not know, with its own client certificate.</summary>
    public TestPki Rogue => _rogue ??= TestPki.Create(Path.Combine(Servers.RootDirectory, "rogue"), "rogue");

    /// <summary>Starts a single TLS server, with <paramref name="pki"/>'s certificates or (null) the fixture's own.</summary>
    public abstract Task<ServerCluster> StartTlsAsync(TestPki? pki = null);

    /// <summary>The TLS endpoints of <paramref name="servers"/>.</summary>
    public abstract string TlsEndpointsOf(ServerCluster servers);

    /// <summary>The CA and certificates <paramref name="servers"/> serve with.</summary>
    protected abstract TestPki PkiOf(ServerCluster servers);

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await StartTlsAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }
}

/// <summary>A ZooKeeper server with its secure client port, shared by <see cref="ZooKeeperStoreTlsTests"/>.</summary>
public sealed class ZooKeeperTlsFixture : StoreTlsFixture
{
    /// <inheritdoc />
    public override async Task<ServerCluster> StartTlsAsync(TestPki? pki = null) => await ZooKeeperEnsemble.StartAsync(1, new ZooKeeperServerOptions { Tls = true, Pki = pki });

    /// <inheritdoc />
    public override string TlsEndpointsOf(ServerCluster servers) => ((ZooKeeperEnsemble)servers).SecureConnectionString;

    /// <inheritdoc />
    protected override TestPki PkiOf(ServerCluster servers) => ((ZooKeeperEnsemble)servers).Pki!;
}

/// <summary>An etcd member with TLS client URLs, shared by <see cref="EtcdStoreTlsTests"/>.</summary>
public sealed class EtcdTlsFixture : StoreTlsFixture
{
    /// <inheritdoc />
    public override async Task<ServerCluster> StartTlsAsync(TestPki? pki = null) => await EtcdCluster.StartAsync(1, new EtcdServerOptions { Tls = true, Pki = pki });

    /// <inheritdoc />
    public override string TlsEndpointsOf(ServerCluster servers) => ((EtcdCluster)servers).Endpoints;

    /// <inheritdoc />
    protected override TestPki PkiOf(ServerCluster servers) => ((EtcdCluster)servers).Pki!;
}

/// <summary>TLS to ZooKeeper's secure client port.</summary>
public sealed class ZooKeeperStoreTlsTests(ZooKeeperTlsFixture fixture, ITestOutputHelper output)
    : StoreTlsTests(fixture, output), IClassFixture<ZooKeeperTlsFixture>
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";
}

/// <summary>TLS to etcd's client URLs.</summary>
public sealed class EtcdStoreTlsTests(EtcdTlsFixture fixture, ITestOutputHelper output)
    : StoreTlsTests(fixture, output), IClassFixture<EtcdTlsFixture>
{
    /// <inheritdoc />
    protected override string Backend => "etcd";
}
