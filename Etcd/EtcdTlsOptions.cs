using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ControlPlane.Etcd;

/// <summary>
/// TLS to etcd's client URLs (<c>--cert-file</c>, <c>--key-file</c>, and <c>--client-cert-auth</c> with
/// <c>--trusted-ca-file</c> for client certificates). Set <see cref="EtcdClientOptions.Tls"/> to one of these and
/// every endpoint is dialled as <c>https</c> (gRPC over HTTP/2 negotiated by ALPN); leave it null for cleartext h2c.
/// The server's certificate must chain to <see cref="TrustedCertificates"/> (or the system's roots when null) and
/// name the host dialled (or <see cref="ServerName"/>); a failure ends the call with an
/// <see cref="EtcdTlsException"/> saying why.
/// </summary>
public sealed class EtcdTlsOptions
{
    /// <summary>The certificate authorities the server's certificate must chain to, and nothing else is trusted
    /// (custom root trust, no revocation check: a private CA has no CRL endpoint). <value>null: the system's trusted roots.</value></summary>
    public X509Certificate2Collection? TrustedCertificates { get; set; }

    /// <summary>The client's certificate, with its private key, sent when the server asks for one
    /// (<c>--client-cert-auth</c>). <value>null: none.</value></summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Intermediate certificates sent with <see cref="ClientCertificate"/>. <value>null: none.</value></summary>
    public X509Certificate2Collection? ClientCertificateChain { get; set; }

    /// <summary>The name the server's certificate must carry, and the SNI sent, instead of each endpoint's host
    /// (e.g. when members are dialled by IP address but their certificates name a DNS name).
    /// <value>null: the endpoint's host.</value></summary>
    public string? ServerName { get; set; }

    /// <summary>The handshake options of every connection (the HTTP handler copies them per connection and sets
    /// the target host: the request's Host, which carries <see cref="ServerName"/> when set, or the endpoint's host).</summary>
    internal SslClientAuthenticationOptions ToSslOptions()
    {
        var options = new SslClientAuthenticationOptions
        {
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ApplicationProtocols = [SslApplicationProtocol.Http2],
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
        {
            throw new ArgumentException("EtcdClientOptions.Tls.ClientCertificate has no private key.", nameof(ClientCertificate));
        }

        if (ServerName is not null && string.IsNullOrWhiteSpace(ServerName))
        {
            throw new ArgumentException("EtcdClientOptions.Tls.ServerName must not be blank.", nameof(ServerName));
        }
    }
}
