namespace ControlPlane.Coordination;

/// <summary>
/// Key syntax shared by both stores: <c>segment/segment/...</c>, relative to the store's root, with
/// segments of <c>[A-Za-z0-9._:@-]</c>. The same key is a znode path on ZooKeeper and a key on etcd, and
/// reads the same in zkCli.sh and etcdctl.
/// </summary>
public static class StoreKeys
{
    /// <summary>Longest key accepted, in characters (well inside both stores' limits).</summary>
    public const int MaxLength = 512;

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem when <paramref name="key"/> is not a valid key.</summary>
    /// <param name="key">The key to check.</param>
    /// <param name="parameterName">Reported as the offending argument.</param>
    public static void Validate(string key, string parameterName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length == 0 || key.Length > MaxLength)
        {
            throw new ArgumentException($"A key has 1 to {MaxLength} characters; got {key.Length}.", parameterName);
        }

        var segmentStart = 0;
        for (var i = 0; i <= key.Length; i++)
        {
            if (i < key.Length && key[i] != '/')
            {
                if (!IsKeyChar(key[i]))
                {
                    throw new ArgumentException(
                        $"Key '{key}' has '{key[i]}' at {i}; keys use letters, digits and . _ : @ - between slashes.", parameterName);
                }

                continue;
            }

            var segment = key.AsSpan(segmentStart, i - segmentStart);
            if (segment.IsEmpty || segment is "." or "..")
            {
                throw new ArgumentException($"Key '{key}' has an empty, '.' or '..' segment at {segmentStart}.", parameterName);
            }

            segmentStart = i + 1;
        }
    }

    /// <summary>Like <see cref="Validate"/>, but also accepts the empty prefix, which stands for every key under the
    /// store's root (a watch of the whole tree).</summary>
    /// <param name="prefix">The prefix to check.</param>
    /// <param name="parameterName">Reported as the offending argument.</param>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length > 0)
        {
            Validate(prefix, parameterName);
        }
    }

    /// <summary>Joins segments with <c>/</c> and validates the result.</summary>
    public static string Combine(params string[] segments)
    {
        var key = string.Join('/', segments);
        Validate(key, nameof(segments));
        return key;
    }

    /// <summary>The parent of <paramref name="key"/>, or null for a top-level key.</summary>
    public static string? Parent(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash < 0 ? null : key[..slash];
    }

    /// <summary>The last segment of <paramref name="key"/>.</summary>
    public static string Name(string key) => key[(key.LastIndexOf('/') + 1)..];

    private static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '@' or '-';
}
