namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>Where directors and agents under test find their store: the <c>Store:*</c> settings they get.</summary>
/// <param name="Backend"><c>zookeeper</c> or <c>etcd</c>.</param>
/// <param name="Endpoints">Comma-separated host:port.</param>
/// <param name="Root">Key root, unique per test.</param>
/// <param name="SessionTimeout">Session timeout / lease TTL.</param>
public sealed record StoreTarget(string Backend, string Endpoints, string Root, TimeSpan SessionTimeout)
{
    /// <summary>The settings as <c>--Store:X=value</c> command-line arguments.</summary>
    public IEnumerable<string> Arguments()
    {
        yield return $"--Store:Backend={Backend}";
        yield return $"--Store:Endpoints={Endpoints}";
        yield return $"--Store:Root={Root}";
        yield return $"--Store:SessionTimeout={SessionTimeout:c}";
        if (Tls is { } tls)
        {
            yield return $"--Store:Tls:CaFile={tls.CaFile}";
            if (tls.CertFile is not null)
            {
                yield return $"--Store:Tls:CertFile={tls.CertFile}";
                yield return $"--Store:Tls:KeyFile={tls.KeyFile}";
            }
        }
    }

    /// <summary>The <c>Store:Tls:*</c> files, or null for plaintext.</summary>
    public StoreTargetTls? Tls { get; init; }

    /// <summary>The same target reached through another address (a proxy).</summary>
    public StoreTarget Via(string endpoints) => this with { Endpoints = endpoints };
}

/// <summary>The <c>Store:Tls:*</c> files a process under test gets.</summary>
/// <param name="CaFile">The CA the servers' certificates chain to.</param>
/// <param name="CertFile">The client certificate, or null for none.</param>
/// <param name="KeyFile">Its key.</param>
public sealed record StoreTargetTls(string CaFile, string? CertFile = null, string? KeyFile = null);
