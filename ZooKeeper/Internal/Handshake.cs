using System.Buffers.Binary;
using System.Net.Sockets;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>What a session asks for when (re)connecting (jute ConnectRequest).</summary>
internal readonly record struct ConnectRequest(long LastZxidSeen, int TimeoutMs, long SessionId, byte[] Password);

/// <summary>The server's answer (jute ConnectResponse). TimeoutMs &lt;= 0 or SessionId 0 means expired.</summary>
internal readonly record struct ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password, bool ReadOnly)
{
    public bool IsExpired => TimeoutMs <= 0 || SessionId == 0;
}

/// <summary>Opens a TCP connection and performs the session handshake. Nothing else may be sent until the
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

    /// <summary>Connects and exchanges the handshake. Returns null as response when the server closed the
    /// socket without answering: it is behind our lastZxid, or not serving (no quorum) - try another.</summary>
    public static async Task<(Socket Socket, ConnectResponse? Response)> ConnectAsync(
        string host, int port, ConnectRequest request, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            var frame = EncodeRequest(request);
            await socket.SendAsync(frame, SocketFlags.None, cts.Token).ConfigureAwait(false);

            var lengthBytes = new byte[4];
            if (!await ReadExactlyAsync(socket, lengthBytes, cts.Token).ConfigureAwait(false))
                return (socket, null);
            var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
            if (length is < 16 or > 4096)
                throw new ConnectionLossException($"Invalid ConnectResponse length {length} from {host}:{port}");
            var body = new byte[length];
            if (!await ReadExactlyAsync(socket, body, cts.Token).ConfigureAwait(false))
                return (socket, null);
            return (socket, DecodeResponse(body));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ConnectionLossException($"Connecting to {host}:{port} timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return false;
            read += n;
        }

        return true;
    }
}
