using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>Key helpers. Keys are bytes; strings are encoded as UTF-8.</summary>
public static class EtcdKeys
{
    /// <summary>A range end of a single zero byte: with a key, "every key ≥ key"; with key "\0", every key.</summary>
    public static readonly ByteString AllKeysEnd = ByteString.CopyFrom(0);

    /// <summary>
    /// The exclusive end of the range holding every key that starts with <paramref name="prefix"/>: the prefix
    /// with its last byte below 0xFF incremented and the bytes after it dropped. Byte-wise on UTF-8, never on
    /// UTF-16 characters, so prefixes ending in multi-byte characters are correct. A prefix of only 0xFF bytes
    /// (or an empty one) has no upper bound: the result is <see cref="AllKeysEnd"/> ("\0", meaning to the end).
    /// </summary>
    /// <param name="prefix">The key prefix.</param>
    /// <returns>The range end to use with the prefix as key.</returns>
    public static ByteString PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                var end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return ByteString.CopyFrom(end);
            }
        }

        return AllKeysEnd;
    }

    /// <summary>The range end for a UTF-8 string prefix; see <see cref="PrefixEnd(ReadOnlySpan{byte})"/>.</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <returns>The range end.</returns>
    public static ByteString PrefixEnd(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return PrefixEnd(System.Text.Encoding.UTF8.GetBytes(prefix));
    }

    /// <summary>Encodes a string key as UTF-8.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The key bytes.</returns>
    public static ByteString Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ByteString.CopyFromUtf8(key);
    }
}
