using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ControlPlane.TestSupport;

/// <summary>
/// A throw-away certificate authority made at run time with <see cref="CertificateRequest"/> (nothing is checked in):
/// its certificate and PEM files for a server and clients it signs, written to a directory of the fixture. Keys are
/// ECDSA P-256, unencrypted PKCS#8; the CA is valid from an hour ago for a day, the certificates it issues for 24 hours from an hour ago. The same files serve
/// ZooKeeper (<c>ssl.keyStore.type=PEM</c>), etcd (<c>--cert-file</c>, <c>--key-file</c>, <c>--trusted-ca-file</c>),
/// etcdctl, Kestrel and our clients, as docs/operations.md ("TLS") describes them.
/// </summary>
public sealed class TestPki
{
    /// <summary>The name the server certificate carries besides <c>127.0.0.1</c> and <c>localhost</c>, for
    /// server-name override tests (<c>Store:Tls:ServerName</c>).</summary>
    public const string ServerDnsName = "store.test";

    private readonly X509Certificate2? _ca;

    private TestPki(string directory, string name, string caFile, TlsFiles server, TlsFiles client)
    {
        Directory = directory;
        Name = name;
        CaFile = caFile;
        Server = server;
        Client = client;
    }

    private TestPki(string directory, string name, X509Certificate2 ca)
    {
        Directory = directory;
        Name = name;
        _ca = ca;
        CaFile = Path.Combine(directory, $"{name}-ca.crt");
        File.WriteAllText(CaFile, ca.ExportCertificatePem() + "\n");
        Server = Issue("server", server: true);
        Client = Issue("client", server: false);
    }

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>The CA's name, the prefix of its files.</summary>
    public string Name { get; }

    /// <summary>PEM of the CA certificate (what servers and clients trust).</summary>
    public string CaFile { get; }

    /// <summary>The server certificate: names <c>127.0.0.1</c>, <c>localhost</c> and <see cref="ServerDnsName"/>;
    /// usable for server and client authentication.</summary>
    public TlsFiles Server { get; }

    /// <summary>A client certificate (common name <c>client</c>).</summary>
    public TlsFiles Client { get; }

    /// <summary>Makes a CA in <paramref name="directory"/> (created if missing) with a server and a client certificate.</summary>
    public static TestPki Create(string directory, string name = "test")
    {
        System.IO.Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name} test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var ca = request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
        return new TestPki(directory, name, ca);
    }

    /// <summary>Runs <paramref name="script"/> (bash, e.g. the <c>openssl</c> commands docs/operations.md shows) in
    /// <paramref name="directory"/> and takes the files it made: <c>ca.crt</c>, <c>server.crt</c>, <c>server.key</c>,
    /// <c>server.pem</c> (key and certificate), <c>agent-1.crt</c> and <c>agent-1.key</c>.</summary>
    /// <exception cref="InvalidOperationException">The script failed; the message holds its output.</exception>
    public static async Task<TestPki> FromScriptAsync(string directory, string script)
    {
        System.IO.Directory.CreateDirectory(directory);
        var start = new System.Diagnostics.ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-euo");
        start.ArgumentList.Add("pipefail");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The certificate script failed ({process.ExitCode}): {await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
        }

        string At(string file) => Path.Combine(directory, file);
        return new TestPki(directory, "documented", At("ca.crt"),
            new TlsFiles(At("server.crt"), At("server.key"), At("server.pem")),
            new TlsFiles(At("agent-1.crt"), At("agent-1.key"), At("agent-1.key")));
    }

    /// <summary>Issues another certificate signed by this CA, for a client (or, with <paramref name="server"/>, a
    /// server) called <paramref name="commonName"/>.</summary>
    /// <exception cref="InvalidOperationException">This CA came from files (<see cref="FromScriptAsync"/>): its key is not at hand.</exception>
    public TlsFiles Issue(string commonName, bool server = false)
    {
        if (_ca is null)
        {
            throw new InvalidOperationException("This CA was made by a script; issue its certificates there.");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }; // clientAuth
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            names.AddDnsName(ServerDnsName);
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var now = DateTimeOffset.UtcNow;
        // Inside the CA's own validity, which began a little earlier.
        using var certificate = request.Create(_ca, now.AddHours(-1), now.AddHours(23), serial);
        var prefix = Path.Combine(Directory, $"{Name}-{commonName}");
        var files = new TlsFiles(prefix + ".crt", prefix + ".key", prefix + ".pem");
        var certificatePem = certificate.ExportCertificatePem() + "\n";
        var keyPem = key.ExportPkcs8PrivateKeyPem() + "\n";
        File.WriteAllText(files.CertFile, certificatePem);
        File.WriteAllText(files.KeyFile, keyPem);
        // ZooKeeper's PEM key store: the key and its certificate in one file.
        File.WriteAllText(files.BundleFile, keyPem + certificatePem);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var secret in new[] { files.KeyFile, files.BundleFile })
            {
                File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return files;
    }
}

/// <summary>One certificate's PEM files.</summary>
/// <param name="CertFile">The certificate.</param>
/// <param name="KeyFile">Its private key (PKCS#8, unencrypted).</param>
/// <param name="BundleFile">Key and certificate in one file (ZooKeeper's <c>ssl.keyStore.location</c> with type PEM).</param>
public sealed record TlsFiles(string CertFile, string KeyFile, string BundleFile);
