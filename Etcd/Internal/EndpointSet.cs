namespace ControlPlane.Etcd.Internal;

/// <summary>
/// The endpoints and which one is preferred now. Every call uses <see cref="Current"/>; a failure moves the
/// preference to the next endpoint, but only if nobody moved it already (so many concurrent failures on one
/// dead member advance once, not once per call).
/// </summary>
internal sealed class EndpointSet
{
    private readonly Uri[] _endpoints;
    private int _current;

    public EndpointSet(string endpoints, bool tls = false)
    {
        _endpoints = endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => Parse(e, tls))
            .ToArray();
        if (_endpoints.Length == 0)
        {
            throw new ArgumentException("no etcd endpoint given", nameof(endpoints));
        }
    }

    public int Count => _endpoints.Length;

    public Uri Current => _endpoints[Volatile.Read(ref _current) % _endpoints.Length];

    public IReadOnlyList<Uri> All => _endpoints;

    /// <summary>Moves away from <paramref name="failed"/> if it is still the preferred endpoint.</summary>
    public Uri MarkFailed(Uri failed)
    {
        var seen = Volatile.Read(ref _current);
        if (_endpoints[seen % _endpoints.Length] == failed)
        {
            Interlocked.CompareExchange(ref _current, (seen + 1) % _endpoints.Length, seen);
        }

        return Current;
    }

    private static Uri Parse(string endpoint, bool tls)
    {
        // "host:port" takes the scheme of the client's mode; an explicit scheme must agree with it, so a TLS
        // client can never fall back to cleartext on one endpoint.
        var scheme = tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        var text = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : scheme + "://" + endpoint;
        var uri = new Uri(text, UriKind.Absolute);
        if (uri.Scheme != scheme)
        {
            throw new ArgumentException(
                tls ? $"TLS is configured, so every endpoint is https; got '{endpoint}'"
                    : $"'{endpoint}' is an https endpoint, but no TLS settings (EtcdClientOptions.Tls) are given",
                nameof(endpoint));
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority));
    }
}
