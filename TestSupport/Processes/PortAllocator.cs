using System.Net;
using System.Net.Sockets;

namespace ControlPlane.TestSupport.Processes;

/// <summary>Finds free loopback ports.</summary>
/// <remarks>
/// The port is free when returned but nothing reserves it: another process may take it before the server
/// binds. Clusters therefore retry a start that failed on "address in use" with fresh ports.
/// </remarks>
internal static class PortAllocator
{
    /// <summary>Returns <paramref name="count"/> distinct ports that were free a moment ago.</summary>
    public static int[] Allocate(int count)
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
