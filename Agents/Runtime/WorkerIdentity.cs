using System.Reflection;
using System.Text;

namespace ControlPlane.Agents.Runtime;

/// <summary>Who this agent is: its worker id and build version.</summary>
internal static class WorkerIdentity
{
    /// <summary>The configured id, or <c>&lt;host&gt;-&lt;8 hex&gt;</c> (new per start, so two agents on one host differ).</summary>
    public static string Resolve(string? configured) => configured ?? $"{HostName()}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The machine name reduced to key characters (lowercase), at most 100 of them.</summary>
    public static string HostName()
    {
        var name = new StringBuilder();
        foreach (var c in Environment.MachineName.ToLowerInvariant())
        {
            if (name.Length == 100)
            {
                break;
            }

            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }

        return name.Length == 0 ? "host" : name.ToString();
    }

    /// <summary>The agent's informational version (without the source-revision suffix).</summary>
    public static string Version { get; } =
        (typeof(WorkerIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
