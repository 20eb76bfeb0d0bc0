using System.Net;
using System.Net.Sockets;

namespace ControlPlane.TestSupport.Processes;

/// <summary>Finds free loopback ports.</summary>
/// <remarks>
/// The port is free when returned but nothing reserves it: another process may take it before the server
/// binds. Clusters therefore retry a start that failed on "address in use" with fresh ports. Within this process a
/// port is handed out at most once: the kernel gives a released port out again, and two fixtures running side by
/// side once got the same one, so one test's director answered another test's requests.
/// </remarks>
internal static class PortAllocator
{
    private const int MaxRounds = 100;
    private static readonly HashSet<int> Given = [];
    private static readonly Lock Gate = new();

    /// <summary>Returns <paramref name="count"/> distinct ports that were free a moment ago and that this process has
    /// not handed out before.</summary>
    /// <exception cref="InvalidOperationException">No such ports after <see cref="MaxRounds"/> tries.</exception>
    public static int[] Allocate(int count)
    {
        lock (Gate)
        {
            for (var round = 0; round < MaxRounds; round++)
            {
                var ports = FromKernel(count);
                if (!ports.Any(Given.Contains))
                {
                    Given.UnionWith(ports);
                    return ports;
                }
            }
        }

        throw new InvalidOperationException($"No {count} loopback port(s) this process has not used before after {MaxRounds} tries.");
    }

    private static int[] FromKernel(int count)
    {
        // Hold all sockets open until every port is chosen, so the kernel hands out distinct ones.
        var sockets = new Socket[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets[i].Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            return sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }
}
