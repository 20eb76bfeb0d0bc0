namespace ControlPlane.ZooKeeper.Internal;

/// <summary>A parsed connect string: hosts (in the given order) and the chroot (null when none).</summary>
internal sealed record ParsedConnectionString(IReadOnlyList<(string Host, int Port)> Hosts, string? Chroot);

/// <summary>Parses <c>h1:p1,h2:p2/chroot</c>. The chroot is everything from the first '/'.</summary>
internal static class ConnectionStringParser
{
    public const int DefaultPort = 2181;

    public static ParsedConnectionString Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("ConnectionString is required (host:port[,host:port...][/chroot]).", nameof(connectionString));

        string? chroot = null;
        var hostPart = connectionString;
        var slash = connectionString.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            chroot = connectionString[slash..];
            hostPart = connectionString[..slash];
            // "/" alone means no chroot; anything else must be a valid absolute path.
            if (chroot == "/")
                chroot = null;
            else
                PathValidation.Validate(chroot, nameof(connectionString));
        }

        var hosts = new List<(string, int)>();
        foreach (var raw in hostPart.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            hosts.Add(ParseHost(raw));
        if (hosts.Count == 0)
            throw new ArgumentException($"ConnectionString '{connectionString}' names no host.", nameof(connectionString));
        return new ParsedConnectionString(hosts, chroot);
    }

    private static (string, int) ParseHost(string raw)
    {
        // IPv6 literals come bracketed: [::1]:2181.
        if (raw.StartsWith('['))
        {
            var close = raw.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                throw new ArgumentException($"Unclosed IPv6 literal in '{raw}'.", nameof(raw));
            var host6 = raw[1..close];
            var rest = raw[(close + 1)..];
            return (host6, rest.Length == 0 ? DefaultPort : ParsePort(rest.TrimStart(':'), raw));
        }

        var colon = raw.LastIndexOf(':');
        if (colon < 0)
            return (raw, DefaultPort);
        var host = raw[..colon];
        if (host.Length == 0)
            throw new ArgumentException($"Empty host in '{raw}'.", nameof(raw));
        return (host, ParsePort(raw[(colon + 1)..], raw));
    }

    private static int ParsePort(string text, string raw) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new ArgumentException($"Invalid port in '{raw}'.", nameof(raw));
}
