using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Auth;

/// <summary>What a presented token may do.</summary>
internal enum Access
{
    /// <summary>Unknown token.</summary>
    None,

    /// <summary>GET only.</summary>
    ReadOnly,

    /// <summary>Everything.</summary>
    Full,
}

/// <summary>
/// The configured tokens, kept as SHA-256 digests and compared in constant time: every configured token is compared
/// on every check, and digests have one length, so neither the time taken nor an early exit tells a caller how much
/// of a guess was right.
/// </summary>
internal sealed class TokenSet(IOptions<AuthOptions> options)
{
    private readonly byte[][] _full = [.. options.Value.Tokens.Select(Digest)];
    private readonly byte[][] _readOnly = [.. options.Value.ReadOnlyTokens.Select(Digest)];

    /// <summary>False when no token is configured: the API is open.</summary>
    public bool Enabled { get; } = options.Value.Enabled;

    public Access Check(string token)
    {
        var digest = Digest(token);
        var full = false;
        var readOnly = false;
        foreach (var known in _full)
        {
            full |= CryptographicOperations.FixedTimeEquals(digest, known);
        }

        foreach (var known in _readOnly)
        {
            readOnly |= CryptographicOperations.FixedTimeEquals(digest, known);
        }

        return full ? Access.Full : readOnly ? Access.ReadOnly : Access.None;
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
