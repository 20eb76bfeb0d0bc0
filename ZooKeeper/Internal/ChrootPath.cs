namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Chroot arithmetic: the client's paths are relative to the chroot, the server's are absolute.</summary>
internal static class ChrootPath
{
    /// <summary>"/a" under chroot "/app" is "/app/a"; "/" is "/app".</summary>
    public static string ToServer(string? chroot, string clientPath) =>
        chroot is null ? clientPath : clientPath == "/" ? chroot : chroot + clientPath;

    /// <summary>"/app/a" is "/a" under chroot "/app"; "/app" is "/". Paths outside the chroot come back unchanged.</summary>
    public static string ToClient(string? chroot, string serverPath)
    {
        if (chroot is null)
            return serverPath;
        if (serverPath == chroot)
            return "/";
        return IsUnder(chroot, serverPath) ? serverPath[chroot.Length..] : serverPath;
    }

    /// <summary>True when <paramref name="serverPath"/> is the chroot or below it ("/app2" is not below "/app").</summary>
    public static bool IsUnder(string? chroot, string serverPath) =>
        chroot is null || serverPath == chroot
        || (serverPath.Length > chroot.Length && serverPath.StartsWith(chroot, StringComparison.Ordinal) && serverPath[chroot.Length] == '/');
}
