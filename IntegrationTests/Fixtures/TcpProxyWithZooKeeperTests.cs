using System.Net.Sockets;
using System.Text;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Fixtures;

/// <summary>The proxy between a client and a real ZooKeeper: what a partitioned client sees.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class TcpProxyWithZooKeeperTests(ZooKeeperFixture zooKeeper)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Paused_proxy_holds_a_request_back_and_delivers_it_on_resume()
    {
        await using var proxy = TcpProxy.Start(zooKeeper.Server.Members[0].ClientAddress);
        Assert.Equal("imok", await AskAsync(proxy, "ruok"));

        proxy.Pause();
        var answer = AskAsync(proxy, "ruok");
        // Absence can only be observed over a window: nothing may come back while the path is black-holed.
        var early = await Task.WhenAny(answer, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.NotSame(answer, early);
        Assert.True(proxy.IsPaused);

        proxy.Resume();
        Assert.Equal("imok", await Eventually.WithinAsync(answer, Deadline, "the held request's answer"));
    }

    [Fact]
    public async Task Cut_resets_an_open_client_connection()
    {
        await using var proxy = TcpProxy.Start(zooKeeper.Server.Members[0].ClientAddress);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", proxy.Port);
        await Eventually.UntilAsync(() => proxy.ActiveConnections == 1, Deadline, () => $"{proxy.ActiveConnections} connections");

        var read = client.GetStream().ReadAsync(new byte[16]).AsTask();
        proxy.CutAll();

        var error = await Record.ExceptionAsync(() => Eventually.WithinAsync(read, Deadline, "the read to fail"));
        Assert.True(error is IOException or SocketException, $"expected a reset, got {error?.GetType().Name ?? "a clean read"}");
    }

    [Fact]
    public async Task Rejecting_proxy_resets_new_connections_while_old_ones_keep_working()
    {
        await using var proxy = TcpProxy.Start(zooKeeper.Server.Members[0].ClientAddress);
        proxy.RejectNew = true;

        var error = await Record.ExceptionAsync(() => AskAsync(proxy, "ruok"));
        Assert.True(error is IOException or SocketException, $"expected a reset, got {error?.GetType().Name ?? "an answer"}");

        proxy.RejectNew = false;
        Assert.Equal("imok", await AskAsync(proxy, "ruok"));
    }

    private static async Task<string> AskAsync(TcpProxy proxy, string word)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", proxy.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word));
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
