using System.Runtime.CompilerServices;
using System.Text;

namespace ControlPlane.TestSupport;

/// <summary>Unique names that let tests share one server without seeing each other's data.</summary>
public static class TestNames
{
    /// <summary>
    /// A name unique to this call, like <c>mytest-3f9a1c2b</c>: a ZooKeeper chroot (prefix it with <c>/</c>) or
    /// an etcd key prefix. Built from <paramref name="hint"/> (default: the calling method) reduced to
    /// <c>[a-z0-9-]</c>, so it is valid in both stores and readable in zkCli/etcdctl.
    /// </summary>
    public static string Unique([CallerMemberName] string hint = "t")
    {
        var clean = new StringBuilder(Math.Min(hint.Length, 40));
        foreach (var c in hint)
        {
            if (clean.Length == 40)
            {
                break;
            }

            clean.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        return $"{(clean.Length == 0 ? "t" : clean.ToString())}-{Guid.NewGuid().ToString("N")[..8]}";
    }
}
