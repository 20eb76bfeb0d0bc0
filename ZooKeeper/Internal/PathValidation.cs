namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Client-side path checks, so a bad path fails with ArgumentException before it costs a round trip
/// (the server would answer BadArguments and some clients' paths would silently change meaning).</summary>
internal static class PathValidation
{
    /// <summary>Throws unless <paramref name="path"/> is absolute, has no empty, "." or ".." segment, no
    /// trailing '/' (except the root, or when <paramref name="sequential"/>: the server appends the suffix),
    /// and no control or reserved characters.</summary>
    public static void Validate(string path, string paramName, bool sequential = false)
    {
        ArgumentNullException.ThrowIfNull(path, paramName);
        if (path.Length == 0 || path[0] != '/')
            throw new ArgumentException($"Path '{path}' must start with '/'.", paramName);
        if (path.Length == 1)
            return; // the root (or, sequential, "/" + suffix)

        // A sequential create of "/a/" names "/a/0000000001": check the path as the server will see it.
        var end = path.Length;
        if (path[^1] == '/')
        {
            if (!sequential)
                throw new ArgumentException($"Path '{path}' must not end with '/'.", paramName);
            end--;
        }

        var segmentStart = 1;
        for (var i = 1; i <= end; i++)
        {
            if (i == end || path[i] == '/')
            {
                var segment = path.AsSpan(segmentStart, i - segmentStart);
                if (segment.Length == 0)
                    throw new ArgumentException($"Path '{path}' has an empty segment.", paramName);
                if (segment is "." || segment is "..")
                    throw new ArgumentException($"Path '{path}' has a relative segment '{segment}'.", paramName);
                segmentStart = i + 1;
                continue;
            }

            var c = path[i];
            if (c == '\0' || (c > '\u0000' && c <= '\u001f') || (c >= '\u007f' && c <= '\u009f')
                || (c >= '\ud800' && c <= '\uf8ff') || (c >= '\ufff0' && c <= '\uffff'))
                throw new ArgumentException($"Path '{path}' has an invalid character U+{(int)c:X4} at {i}.", paramName);
        }
    }

    /// <summary>The parent of a valid non-root path ("/a/b" → "/a", "/a" → "/").</summary>
    public static string Parent(string path)
    {
        var last = path.LastIndexOf('/');
        return last <= 0 ? "/" : path[..last];
    }
}
