using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>What a session asks for when (re)connecting (jute ConnectRequest).</summary>
internal readonly record struct ConnectRequest(long LastZxidSeen, int TimeoutMs, long SessionId, byte[] Password);

/// <summary>The server's answer (jute ConnectResponse). TimeoutMs &lt;= 0 or SessionId 0 means expired.</summary>
internal readonly record struct ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password, bool ReadOnly)
{
    public bool IsExpired => TimeoutMs <= 0 || SessionId == 0;
}

/// <summary>Opens a TCP connection (and TLS session, when configured) and performs the session handshake. Nothing else may be sent until the
/// ConnectResponse arrived, so this runs before the connection's loops start.</summary>
internal static class Handshake
{
    public static byte[] EncodeRequest(in ConnectRequest request)
    {
        var writer = new JuteWriter(64);
        writer.WriteInt(0);                       // protocolVersion
        writer.WriteLong(request.LastZxidSeen);   // lets the server refuse us if it is behind what we saw
        writer.WriteInt(request.TimeoutMs);
        writer.WriteLong(request.SessionId);
        writer.WriteBuffer(request.Password);
        writer.WriteBool(false);                  // readOnly: we never accept a read-only server
        var (buffer, length) = writer.Complete();
        var frame = buffer.AsSpan(0, length).ToArray();
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return frame;
    }

    public static ConnectResponse DecodeResponse(ReadOnlySpan<byte> body)
    {
        var reader = new JuteReader(body);
        var version = reader.ReadInt();
        var timeout = reader.ReadInt();
        var sessionId = reader.ReadLong();
        var password = reader.ReadBuffer();
        // Old servers omit the trailing readOnly flag.
        var readOnly = reader.Remaining > 0 && reader.ReadBool();
        return new ConnectResponse(version, timeout, sessionId, password, readOnly);
    }

    /// <summary>Connects (through TLS when <paramref name="tls"/> is set) and exchanges the handshake. Returns null
    /// as response when the server closed the socket without answering: it is behind our lastZxid, or not serving
    /// (no quorum) - try another. The TLS stream, when there is one, carries every later byte of the connection.</summary>
    /// <exception cref="ZooKeeperTlsException">The TLS handshake failed (the message says why).</exception>
    public static async Task<(Socket Socket, SslStream? Tls, ConnectResponse? Response)> ConnectAsync(
        string host, int port, ConnectRequest request, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken,
        ZooKeeperTlsOptions? tls = null)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? ssl = null;
        try
        {
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            if (tls is not null)
                ssl = await AuthenticateAsync(socket, host, port, tls, cts.Token).ConfigureAwait(false);
            var frame = EncodeRequest(request);
            if (ssl is null)
                await socket.SendAsync(frame, SocketFlags.None, cts.Token).ConfigureAwait(false);
            else
                await ssl.WriteAsync(frame, cts.Token).ConfigureAwait(false);

            var lengthBytes = new byte[4];
            if (!await ReadExactlyAsync(socket, ssl, lengthBytes, cts.Token).ConfigureAwait(false))
                return (socket, ssl, null);
            var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
            if (length is < 16 or > 4096)
                throw new ConnectionLossException($"Invalid ConnectResponse length {length} from {host}:{port}");
            var body = new byte[length];
            if (!await ReadExactlyAsync(socket, ssl, body, cts.Token).ConfigureAwait(false))
                return (socket, ssl, null);
            return (socket, ssl, DecodeResponse(body));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ssl?.Dispose();
            socket.Dispose();
            throw new ConnectionLossException($"Connecting to {host}:{port} timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch (IOException ex) when (ssl is not null)
        {
            // The TLS session was set up, and the server ended it before its first answer: with TLS 1.3 a server
            // refuses the client's certificate only after the client's side of the handshake has completed.
            ssl.Dispose();
            socket.Dispose();
            throw new ZooKeeperTlsException(
                $"TLS: ZooKeeper server {host}:{port} ended the TLS session before answering the session handshake; it may have refused the client certificate: {Describe(ex)}", ex);
        }
        catch
        {
            ssl?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The TLS handshake on a connected socket, with each way it can fail turned into a
    /// <see cref="ZooKeeperTlsException"/> that says why.</summary>
    private static async Task<SslStream> AuthenticateAsync(Socket socket, string host, int port, ZooKeeperTlsOptions tls, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls.ForHost(host), cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (AuthenticationException ex)
        {
            ssl.Dispose();
            throw new ZooKeeperTlsException($"TLS handshake with ZooKeeper server {host}:{port} failed: {Describe(ex)}", ex);
        }
        catch (IOException ex)
        {
            ssl.Dispose();
            throw new ZooKeeperTlsException(
                $"TLS handshake with ZooKeeper server {host}:{port} failed: the server closed the connection (is this its secureClientPort? does it accept the client certificate?): {Describe(ex)}", ex);
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
    }

    /// <summary>An exception's message with its causes' (the TLS library's reason is usually the innermost).</summary>
    internal static string Describe(Exception ex)
    {
        var text = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!text.Contains(inner.Message, StringComparison.Ordinal))
                text += " -> " + inner.Message;
        }

        return text;
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, SslStream? ssl, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = ssl is null
                ? await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false)
                : await ssl.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return false;
            read += n;
        }

        return true;
    }
}
