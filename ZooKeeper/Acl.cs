using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.ZooKeeper;

/// <summary>Permissions an ACL entry grants (wire bit values).</summary>
[Flags]
public enum Permissions
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>Read data and list children.</summary>
    Read = 1,
    /// <summary>Set data.</summary>
    Write = 2,
    /// <summary>Create children.</summary>
    Create = 4,
    /// <summary>Delete children.</summary>
    Delete = 8,
    /// <summary>Set the ACL.</summary>
    Admin = 16,
    /// <summary>Everything.</summary>
    All = Read | Write | Create | Delete | Admin,
}

/// <summary>One ACL entry: <paramref name="Permissions"/> granted to the identity <paramref name="Id"/> of
/// <paramref name="Scheme"/> (<c>world:anyone</c>, <c>digest:user:hash</c>, <c>auth:</c>, <c>ip:addr</c>).</summary>
/// <param name="Permissions">What the identity may do.</param>
/// <param name="Scheme">The authentication scheme.</param>
/// <param name="Id">The identity within the scheme.</param>
public sealed record ZooKeeperAcl(Permissions Permissions, string Scheme, string Id)
{
    /// <summary>Everything for everyone (<c>OPEN_ACL_UNSAFE</c>), the default of the create methods.</summary>
    public static IReadOnlyList<ZooKeeperAcl> OpenUnsafe { get; } = [new(Permissions.All, "world", "anyone")];

    /// <summary>Everything for the identities this session authenticated with (<c>CREATOR_ALL_ACL</c>);
    /// needs an <see cref="ZooKeeperClient.AddAuthAsync"/> first, else the server answers InvalidACL.</summary>
    public static IReadOnlyList<ZooKeeperAcl> CreatorAll { get; } = [new(Permissions.All, "auth", "")];

    /// <summary>Read for everyone (<c>READ_ACL_UNSAFE</c>).</summary>
    public static IReadOnlyList<ZooKeeperAcl> ReadUnsafe { get; } = [new(Permissions.Read, "world", "anyone")];

    /// <summary>A digest ACL entry for <paramref name="user"/>/<paramref name="password"/>: the id is
    /// <c>user:Base64(SHA1("user:password"))</c>, the form the server compares digest auth against.</summary>
    public static ZooKeeperAcl Digest(Permissions permissions, string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        // SHA-1 is what the ZooKeeper digest provider uses; this is its wire format, not our choice.
#pragma warning disable CA5350
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(user + ":" + password));
#pragma warning restore CA5350
        return new ZooKeeperAcl(permissions, "digest", user + ":" + Convert.ToBase64String(hash));
    }
}

/// <summary>An authentication to send to the server (and replay after every reconnect).</summary>
/// <param name="Scheme">The scheme, e.g. <c>digest</c>.</param>
/// <param name="Auth">The scheme's credential bytes.</param>
public sealed record ZooKeeperAuthInfo(string Scheme, ReadOnlyMemory<byte> Auth)
{
    /// <summary>Digest authentication as <paramref name="user"/> with <paramref name="password"/>.</summary>
    public static ZooKeeperAuthInfo Digest(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        return new ZooKeeperAuthInfo("digest", Encoding.UTF8.GetBytes(user + ":" + password));
    }

    /// <summary>Never prints the credential.</summary>
    public override string ToString() => $"ZooKeeperAuthInfo {{ Scheme = {Scheme} }}";
}
