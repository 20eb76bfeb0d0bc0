using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ControlPlane.ZooKeeper;

/// <summary>
/// TLS to ZooKeeper's secure client port (<c>secureClientPort</c>, served by the Netty connection factory). Set
/// <see cref="ZooKeeperClientOptions.Tls"/> to one of these and every connection, reconnects included, opens a TLS
/// session before the ZooKeeper handshake; leave it null for plaintext (then nothing TLS costs anything).
/// The server's certificate must chain to <see cref="TrustedCertificates"/> (or the system's roots when null) and
/// name the host dialled (or <see cref="ServerName"/>); a failure ends the attempt with a
/// <see cref="ZooKeeperTlsException"/> saying why.
/// </summary>
public sealed class ZooKeeperTlsOptions
{
    /// <summary>The certificate authorities the server's certificate must chain to, and nothing else is trusted
    /// (custom root trust, no revocation check: a private CA has no CRL endpoint). <value>null: the system's trusted roots.</value></summary>
    public X509Certificate2Collection? TrustedCertificates { get; set; }

    /// <summary>The client's certificate, with its private key, sent when the server asks for one
    /// (<c>ssl.clientAuth=need</c>, ZooKeeper's default). <value>null: none.</value></summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Intermediate certificates sent with <see cref="ClientCertificate"/>. <value>null: none.</value></summary>
    public X509Certificate2Collection? ClientCertificateChain { get; set; }

    /// <summary>The name the server's certificate must carry, and the SNI sent, instead of the host of each
    /// <c>host:port</c> (e.g. when servers are dialled by IP address but their certificates name a DNS name).
    /// <value>null: the host dialled.</value></summary>
    public string? ServerName { get; set; }

    /// <summary>The options of one TLS handshake with <paramref name="host"/>.</summary>
    internal SslClientAuthenticationOptions ForHost(string host)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName ?? host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (TrustedCertificates is { Count: > 0 } trusted)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(trusted);
            options.CertificateChainPolicy = policy;
        }

        if (ClientCertificate is not null)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(ClientCertificate, ClientCertificateChain, offline: true);
        }

        return options;
    }

    internal void Validate()
    {
        if (ClientCertificate is { HasPrivateKey: false })
            throw new ArgumentException("Tls.ClientCertificate has no private key.", nameof(ClientCertificate));
        if (ServerName is not null && string.IsNullOrWhiteSpace(ServerName))
            throw new ArgumentException("Tls.ServerName must not be blank.", nameof(ServerName));
    }
}

/// <summary>The TLS handshake with a server failed: its certificate was not trusted or named another host, it
/// refused the client's certificate, or it does not speak TLS on that port. The message says which server and why.
/// A wrong CA or certificate will not fix itself, but the client cannot tell that from a server being re-keyed,
/// so it keeps trying (with backoff) and reports this each time.</summary>
public sealed class ZooKeeperTlsException(string message, Exception? innerException = null)
    : ZooKeeperException(ErrorCode.ConnectionLoss, null, message, innerException);
