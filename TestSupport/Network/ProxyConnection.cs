using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace ControlPlane.TestSupport;

/// <summary>One client connection through a <see cref="TcpProxy"/> and its upstream connection.</summary>
internal sealed class ProxyConnection
{
    // Chunks held per direction while paused or delayed; when full, the proxy stops reading and TCP
    // flow control pushes back on the sender, so memory stays bounded.
    private const int HeldChunks = 256;

    private readonly TcpProxy _proxy;
    private readonly Socket _client;
    private readonly IPEndPoint _target;
    private readonly Socket _upstream = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _closed = new();
    private readonly Action<bool, ReadOnlyMemory<byte>>? _observe;

    public ProxyConnection(TcpProxy proxy, Socket client, IPEndPoint target)
    {
        _proxy = proxy;
        _client = client;
        _target = target;
        _observe = proxy.Observer?.Invoke();
        _client.NoDelay = true;
        _upstream.NoDelay = true;
    }

    /// <summary>Closes a socket with RST instead of FIN.</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing to reset.
        }

        socket.Dispose();
    }

    public void Abort()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Finished already.
        }

        Reset(_client);
        Reset(_upstream);
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _closed.Token);
        var ct = linked.Token;
        try
        {
            // A paused proxy stalls new connections too: the upstream connect waits for the resume.
            await _proxy.WaitResumedAsync(ct).ConfigureAwait(false);
            await _upstream.ConnectAsync(_target, ct).ConfigureAwait(false);
            var up = PumpAsync(_client, _upstream, towardServer: true, ct);
            var down = PumpAsync(_upstream, _client, towardServer: false, ct);
            // A FIN in one direction is a half-close; the connection ends when both directions have.
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection ends; the finally below closes both sides.
        }
        finally
        {
            Abort();
            _closed.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool towardServer, CancellationToken ct)
    {
        var chunks = Channel.CreateBounded<(long ReceivedAt, byte[] Data)>(
            new BoundedChannelOptions(HeldChunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var writer = WriteLoopAsync(chunks.Reader, to, towardServer, ct);
        try
        {
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await chunks.Writer.WriteAsync((Stopwatch.GetTimestamp(), buffer[..read]), ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A reset on one side resets the other: the proxy must not turn an abort into a clean close.
            Abort();
        }
        finally
        {
            chunks.Writer.TryComplete();
        }

        await writer.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync(
        ChannelReader<(long ReceivedAt, byte[] Data)> chunks, Socket to, bool towardServer, CancellationToken ct)
    {
        try
        {
            await foreach (var (receivedAt, data) in chunks.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await _proxy.WaitResumedAsync(ct).ConfigureAwait(false);
                var wait = _proxy.Delay - Stopwatch.GetElapsedTime(receivedAt);
                if (wait > TimeSpan.Zero)
                {
                    // Not a retry: the latency the test asked the proxy to add to every chunk.
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }

                if (towardServer)
                {
                    _proxy.OnForwardingRequest(data.Length);
                }
                else if (_proxy.DropsResponses)
                {
                    // An armed cut (TcpProxy.CutAfterNextRequest): the answer is lost.
                    continue;
                }

                _observe?.Invoke(towardServer, data);
                await to.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            }

            // The sender closed its side: pass the FIN on.
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Abort();
        }
    }
}
