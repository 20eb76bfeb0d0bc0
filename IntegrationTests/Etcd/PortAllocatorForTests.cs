using System.Net;
using System.Net.Sockets;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>Finds a loopback port nothing listens on (bound then released), for connection-refused cases.</summary>
internal static class PortAllocatorForTests
{
    public static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
