namespace ControlPlane.Cli.Parsing;

/// <summary>Parses repeated <c>KEY=VALUE</c> options (<c>--env</c>, <c>--constraint</c>) into a map.</summary>
internal static class KeyValues
{
    /// <summary>The pairs as a map, or null when there are none; the value is everything after the first <c>=</c>.</summary>
    /// <exception cref="UsageException">A pair without <c>=</c>, with an empty key, or a key given twice.</exception>
    public static Dictionary<string, string>? Parse(IEnumerable<string>? pairs, string option)
    {
        if (pairs is null)
        {
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"{option} takes KEY=VALUE; got '{pair}'.");
            }

            // Silently keeping the last of two values would hide a typo in a long command line.
            if (!map.TryAdd(pair[..equals], pair[(equals + 1)..]))
            {
                throw new UsageException($"{option} {pair[..equals]} is given twice.");
            }
        }

        return map.Count == 0 ? null : map;
    }
}
