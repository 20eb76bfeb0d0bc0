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
    }

    /// <summary>The same target reached through another address (a proxy).</summary>
    public StoreTarget Via(string endpoints) => this with { Endpoints = endpoints };
}
