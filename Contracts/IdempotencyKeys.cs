using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Contracts;

/// <summary>Maps a client's <c>Idempotency-Key</c> (any characters) to its record's key in the store.</summary>
public static class IdempotencyKeys
{
    /// <summary>Lowercase hex SHA-256 of the UTF-8 key.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The store key of the record for <paramref name="key"/>: <c>idempotency/&lt;hh&gt;/&lt;sha256&gt;</c>.</summary>
    public static string RecordKey(string key) => StoreLayout.IdempotencyRecord(Hash(key));
}
