using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ControlPlane.Etcd;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.Hosting;

/// <summary>
/// The <c>Store:Tls:*</c> settings: TLS to the store's servers (ZooKeeper's secure client port, etcd's https client
/// URLs), on when <see cref="CaFile"/> is set. The files are PEM, read when the options are validated (at start-up)
/// and again for each connection attempt of <see cref="StoreOptions.ConnectAsync"/>, so renewed files are picked
/// up by the next process start or first connect. docs/operations.md ("TLS") shows how to make them.
/// </summary>
public sealed class StoreTlsOptions
{
    /// <summary>PEM file of the certificate authorities the servers' certificates must chain to; nothing else is
    /// trusted. Setting it turns TLS on. <value>null: plaintext.</value></summary>
    public string? CaFile { get; set; }

    /// <summary>PEM file of this process's client certificate (the leaf first, then any intermediates), sent to
    /// servers that ask for one. Needs <see cref="KeyFile"/>. <value>null: no client certificate.</value></summary>
    public string? CertFile { get; set; }

    /// <summary>PEM file of <see cref="CertFile"/>'s private key (unencrypted PKCS#8, PKCS#1 or SEC1; RSA or ECDSA).
    /// <value>null.</value></summary>
    public string? KeyFile { get; set; }

    /// <summary>The name the servers' certificates must carry, instead of the host of each endpoint (e.g. when
    /// servers are dialled by IP address and their certificates name a DNS name). <value>null: the host dialled.</value></summary>
    public string? ServerName { get; set; }

    /// <summary>True when TLS is configured (<see cref="CaFile"/> is set).</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CaFile);

    /// <summary>Throws <see cref="ValidationException"/> naming the first bad setting: a file missing, unreadable or
    /// holding no certificate or key, a key that is not the certificate's, a certificate without its key (or the
    /// reverse), or a setting given while <see cref="CaFile"/> is not.</summary>
    public void Validate() => _ = Load();

    /// <summary>Reads the files: the certificates and key the clients use, or null when TLS is off.</summary>
    /// <exception cref="ValidationException">A setting is wrong; the message names it.</exception>
    public StoreTlsMaterial? Load()
    {
        if (!Enabled)
        {
            foreach (var (name, value) in new[] { (nameof(CertFile), CertFile), (nameof(KeyFile), KeyFile), (nameof(ServerName), ServerName) })
            {
                if (!string.IsNullOrWhiteSpace(value))
                {
                    throw new ValidationException(
                        $"Store:Tls:{name} is set but Store:Tls:CaFile is not: TLS to the store is on when Store:Tls:CaFile names the CA the servers' certificates chain to.");
                }
            }

            return null;
        }

        if (ServerName is not null && string.IsNullOrWhiteSpace(ServerName))
        {
            throw new ValidationException("Store:Tls:ServerName must not be blank; leave it out to check each endpoint's own host.");
        }

        var trusted = ReadCertificates(nameof(CaFile), CaFile!);
        var hasCert = !string.IsNullOrWhiteSpace(CertFile);
        var hasKey = !string.IsNullOrWhiteSpace(KeyFile);
        if (hasCert != hasKey)
        {
            throw new ValidationException(hasCert
                ? "Store:Tls:CertFile needs Store:Tls:KeyFile, the file of its private key."
                : "Store:Tls:KeyFile needs Store:Tls:CertFile, the certificate of that key.");
        }

        if (!hasCert)
        {
            return new StoreTlsMaterial(trusted, null, null, ServerName);
        }

        var chain = ReadCertificates(nameof(CertFile), CertFile!);
        var leaf = chain[0];
        chain.RemoveAt(0);
        var withKey = AttachKey(leaf, KeyFile!);
        return new StoreTlsMaterial(trusted, withKey, chain.Count > 0 ? chain : null, ServerName);
    }

    private static string ReadText(string setting, string path)
    {
        if (!File.Exists(path))
        {
            throw new ValidationException($"Store:Tls:{setting}: the file '{path}' does not exist.");
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ValidationException($"Store:Tls:{setting}: the file '{path}' cannot be read: {e.Message}");
        }
    }

    private static X509Certificate2Collection ReadCertificates(string setting, string path)
    {
        var text = ReadText(setting, path);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new ValidationException($"Store:Tls:{setting}: '{path}' holds a malformed PEM certificate: {e.Message}");
        }

        return certificates.Count > 0
            ? certificates
            : throw new ValidationException($"Store:Tls:{setting}: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }

    /// <summary>The certificate with the key of <paramref name="keyPath"/>, which must be its key.</summary>
    private X509Certificate2 AttachKey(X509Certificate2 leaf, string keyPath)
    {
        var text = ReadText(nameof(KeyFile), keyPath);
        if (text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new ValidationException($"Store:Tls:KeyFile: '{keyPath}' is encrypted; give the key unencrypted (and protect the file instead).");
        }

        var algorithm = leaf.GetKeyAlgorithm();
        try
        {
            if (leaf.GetECDsaPublicKey() is { } ecPublic)
            {
                using (ecPublic)
                {
                    using var key = ECDsa.Create();
                    ImportKey(key, text, keyPath);
                    RequireSameKey(ecPublic.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo(), keyPath);
                    return leaf.CopyWithPrivateKey(key);
                }
            }

            if (leaf.GetRSAPublicKey() is { } rsaPublic)
            {
                using (rsaPublic)
                {
                    using var key = RSA.Create();
                    ImportKey(key, text, keyPath);
                    RequireSameKey(rsaPublic.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo(), keyPath);
                    return leaf.CopyWithPrivateKey(key);
                }
            }
        }
        catch (CryptographicException e)
        {
            throw new ValidationException($"Store:Tls:KeyFile: '{keyPath}' cannot be used with Store:Tls:CertFile '{CertFile}': {e.Message}");
        }

        throw new ValidationException($"Store:Tls:CertFile: '{CertFile}' has a {algorithm} key; only RSA and ECDSA certificates are supported.");
    }

    private static void ImportKey(AsymmetricAlgorithm key, string pem, string keyPath)
    {
        try
        {
            key.ImportFromPem(pem);
        }
        catch (ArgumentException e)
        {
            throw new ValidationException($"Store:Tls:KeyFile: '{keyPath}' holds no PEM private key of the certificate's type: {e.Message}");
        }
        catch (CryptographicException e)
        {
            throw new ValidationException($"Store:Tls:KeyFile: '{keyPath}' holds no PEM private key of the certificate's type: {e.Message}");
        }
    }

    private void RequireSameKey(byte[] certificateKey, byte[] privateKey, string keyPath)
    {
        if (!certificateKey.AsSpan().SequenceEqual(privateKey))
        {
            throw new ValidationException($"Store:Tls:KeyFile: '{keyPath}' is not the private key of the certificate in Store:Tls:CertFile '{CertFile}'.");
        }
    }
}

/// <summary>What <see cref="StoreTlsOptions.Load"/> read: the trusted CAs, the client certificate with its key and
/// chain, and the server-name override, ready for either store's client.</summary>
/// <param name="TrustedCertificates">The CAs the servers' certificates must chain to.</param>
/// <param name="ClientCertificate">The client certificate with its private key, or null.</param>
/// <param name="ClientCertificateChain">Intermediates sent with it, or null.</param>
/// <param name="ServerName">The name the servers' certificates must carry, or null for each endpoint's host.</param>
public sealed record StoreTlsMaterial(
    X509Certificate2Collection TrustedCertificates, X509Certificate2? ClientCertificate, X509Certificate2Collection? ClientCertificateChain, string? ServerName)
{
    /// <summary>The ZooKeeper client's TLS options.</summary>
    public ZooKeeperTlsOptions ToZooKeeper() => new()
    {
        TrustedCertificates = TrustedCertificates,
        ClientCertificate = ClientCertificate,
        ClientCertificateChain = ClientCertificateChain,
        ServerName = ServerName,
    };

    /// <summary>The etcd client's TLS options.</summary>
    public EtcdTlsOptions ToEtcd() => new()
    {
        TrustedCertificates = TrustedCertificates,
        ClientCertificate = ClientCertificate,
        ClientCertificateChain = ClientCertificateChain,
        ServerName = ServerName,
    };
}
