using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.TestSupport;

/// <summary>The proxy's mechanics against an in-process echo server.</summary>
public sealed class TcpProxyTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Socket _echo = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private Task _echoLoop = Task.CompletedTask;
    private long _echoReceived;

    public Task InitializeAsync()
    {
        _echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _echo.Listen(16);
        _echoLoop = EchoLoopAsync();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _echo.Dispose();
        await _echoLoop;
        _stop.Dispose();
    }

    [Fact]
    public async Task Passes_bytes_both_ways()
    {
        await using var proxy = StartProxy();
        using var client = await ConnectAsync(proxy);

        Assert.Equal("hello", await RoundTripAsync(client, "hello"));
        Assert.Equal(1, proxy.ActiveConnections);
        Assert.Equal(1, proxy.TotalConnections);
    }

    [Fact]
    public async Task Delay_holds_each_chunk_back_at_least_that_long()
    {
        await using var proxy = StartProxy();
        proxy.Delay = TimeSpan.FromMilliseconds(150);
        using var client = await ConnectAsync(proxy);

        var clock = Stopwatch.StartNew();
        Assert.Equal("x", await RoundTripAsync(client, "x"));

        // A lower bound only: two one-way delays cannot take less, however busy the machine.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"round trip took {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Pause_holds_data_until_resume()
    {
        await using var proxy = StartProxy();
        using var client = await ConnectAsync(proxy);
        proxy.Pause();
        proxy.Pause();

        var roundTrip = RoundTripAsync(client, "held");
        var first = await Task.WhenAny(roundTrip, Task.Delay(TimeSpan.FromMilliseconds(300)));
        Assert.NotSame(roundTrip, first);

        proxy.Resume();
        Assert.Equal("held", await Eventually.WithinAsync(roundTrip, Deadline, "the held echo"));
        Assert.False(proxy.IsPaused);
    }

    [Fact]
    public async Task CutAll_resets_the_client()
    {
        await using var proxy = StartProxy();
        using var client = await ConnectAsync(proxy);
        await RoundTripAsync(client, "warm");

        var read = client.ReceiveAsync(new byte[8], SocketFlags.None);
        proxy.CutAll();

        var error = await Record.ExceptionAsync(() => Eventually.WithinAsync(read, Deadline, "the read to fail"));
        Assert.IsType<SocketException>(error);
        await Eventually.UntilAsync(() => proxy.ActiveConnections == 0, Deadline, () => $"{proxy.ActiveConnections} open");
    }

    [Fact]
    public async Task CutAfterNextRequest_delivers_the_request_loses_the_answer_and_resets_once()
    {
        await using var proxy = StartProxy();
        using var client = await ConnectAsync(proxy);
        await RoundTripAsync(client, "warm");
        // The grace is the server's time to take the request before the reset; generous for a busy machine.
        proxy.CutAfterNextRequest(minimumBytes: 8, grace: TimeSpan.FromSeconds(1));

        // Below the size: passes as usual and does not fire the cut.
        Assert.Equal("tiny", await RoundTripAsync(client, "tiny"));
        var receivedBefore = Interlocked.Read(ref _echoReceived);

        var error = await Record.ExceptionAsync(() => Eventually.WithinAsync(RoundTripAsync(client, "the-request"), Deadline, "the reset"));

        Assert.IsType<SocketException>(error);
        Assert.Equal(1, proxy.RequestCuts);
        await Eventually.UntilAsync(
            () => Interlocked.Read(ref _echoReceived) == receivedBefore + "the-request".Length, Deadline, () => $"{Interlocked.Read(ref _echoReceived)} bytes");
        using var next = await ConnectAsync(proxy);
        Assert.Equal("after", await RoundTripAsync(next, "after"));
        Assert.Equal(1, proxy.RequestCuts);
    }

    [Fact]
    public async Task RejectNew_resets_new_connections()
    {
        await using var proxy = StartProxy();
        proxy.RejectNew = true;

        // The reset may already beat the connect's completion, or come with the first exchange.
        var error = await Record.ExceptionAsync(async () =>
        {
            using var client = await ConnectAsync(proxy);
            await Eventually.WithinAsync(RoundTripAsync(client, "no"), Deadline, "the reset");
        });
        Assert.IsType<SocketException>(error);
    }

    [Fact]
    public async Task Dispose_resets_open_connections_and_stops_listening()
    {
        var proxy = StartProxy();
        using var client = await ConnectAsync(proxy);
        await RoundTripAsync(client, "warm");

        await proxy.DisposeAsync();

        await Assert.ThrowsAsync<SocketException>(() => RoundTripAsync(client, "gone"));
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(IPAddress.Loopback, proxy.Port));
    }

    private TcpProxy StartProxy() => TcpProxy.Start("127.0.0.1", ((IPEndPoint)_echo.LocalEndPoint!).Port);

    private static async Task<Socket> ConnectAsync(TcpProxy proxy)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, proxy.Port);
        return socket;
    }

    private static async Task<string> RoundTripAsync(Socket client, string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await client.SendAsync(bytes, SocketFlags.None);
        var buffer = new byte[bytes.Length];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None);
            if (read == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            total += read;
        }

        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    private async Task EchoLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _echo.AcceptAsync(_stop.Token);
                connections.Add(EchoAsync(socket));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        await Task.WhenAll(connections);
    }

    private async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[4096];
            try
            {
                int read;
                while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
                {
                    Interlocked.Add(ref _echoReceived, read);
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // Peer gone or test over.
            }
        }
    }
}
