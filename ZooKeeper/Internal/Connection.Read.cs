using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace ControlPlane.ZooKeeper.Internal;

internal sealed partial class Connection
{
    private const int ReceiveBufferSize = 16 * 1024;

    // A read smaller than this (a ping reply, a lone notification) marks the connection as idle.
    private const int IdleReadThreshold = 512;

    // The server's default jute.maxbuffer is 0xfffff; allow some headroom for headers and large listings.
    internal const int MaxFrameLength = 16 * 1024 * 1024;

    private async Task ReadLoopAsync()
    {
        byte[]? buffer = null;
        int start = 0, end = 0, lastRead = 0;
        try
        {
            while (true)
            {
                if (start == end)
                {
                    start = end = 0;
                    // Drained after a small read: the connection is (nearly) idle. Give the buffer back and wait
                    // with a zero-byte receive, so an idle session holds no receive buffer at all (5,000
                    // sessions x 16 KiB would add up). A busy connection keeps its buffer: no extra syscall.
                    if (buffer is null || lastRead < IdleReadThreshold)
                    {
                        if (buffer is not null)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = null;
                        }

                        await ReceiveAsync(Memory<byte>.Empty).ConfigureAwait(false);
                        buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                    }
                }

                var n = await ReceiveAsync(buffer.AsMemory(end)).ConfigureAwait(false);
                lastRead = n;
                if (n == 0)
                    throw new ConnectionLossException($"{Server} closed the connection");
                end += n;
                Volatile.Write(ref _lastReceiveTicks, _time.GetTimestamp());
                start = ProcessFrames(ref buffer!, start, ref end);
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One receive from the socket, or from the TLS session over it (SslStream supports the zero-byte
    /// read too: it waits for the socket without holding a buffer).</summary>
    private ValueTask<int> ReceiveAsync(Memory<byte> buffer) =>
        _tls is null ? _socket.ReceiveAsync(buffer, SocketFlags.None) : _tls.ReadAsync(buffer);

    /// <summary>Handles every complete frame in buffer[start..end]; returns the new start. Makes room for a
    /// partial frame (compacting or growing the buffer) so the next receive can complete it.</summary>
    private int ProcessFrames(ref byte[] buffer, int start, ref int end)
    {
        while (end - start >= 4)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
            if (length < 16 || length > MaxFrameLength)
                throw new ConnectionLossException($"Invalid frame length {length} from {Server}");
            if (end - start - 4 < length)
            {
                EnsureRoom(ref buffer, ref start, ref end, length + 4);
                return start;
            }

            HandleFrame(buffer.AsSpan(start + 4, length));
            start += 4 + length;
        }

        if (start > 0 && start < end)
        {
            // A partial length prefix: move it to the front.
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        return start;
    }

    private static void EnsureRoom(ref byte[] buffer, ref int start, ref int end, int frameLength)
    {
        var have = end - start;
        if (buffer.Length - start >= frameLength)
            return;
        if (buffer.Length >= frameLength)
        {
            buffer.AsSpan(start, have).CopyTo(buffer);
        }
        else
        {
            var bigger = ArrayPool<byte>.Shared.Rent(frameLength);
            buffer.AsSpan(start, have).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = bigger;
        }

        start = 0;
        end = have;
    }

    /// <summary>One reply frame: header {xid, zxid, err} then the body.</summary>
    internal void HandleFrame(ReadOnlySpan<byte> frame)
    {
        var reader = new JuteReader(frame);
        var xid = reader.ReadInt();
        var zxid = reader.ReadLong();
        var err = reader.ReadInt();
        switch (xid)
        {
            case Xids.Notification:
                var type = (WatchEventType)reader.ReadInt();
                var state = reader.ReadInt();
                var path = reader.ReadString() ?? "/";
                _owner.OnNotification(type, state, path);
                return;
            case Xids.Ping:
                if (zxid > 0)
                    _owner.OnZxid(zxid);
                if (_pingSends.TryDequeue(out var pingSent))
                    _owner.OnAcknowledged(pingSent);
                return;
            case Xids.Auth:
                _owner.OnAuthReply(err);
                return;
            case Xids.SetWatches:
                _owner.OnSetWatchesReply(err);
                return;
        }

        if (!_pending.TryDequeue(out var request))
            throw new ConnectionLossException($"{Server} sent a reply (xid {xid}) to no pending request");
        if (request.Xid != xid)
        {
            // Replies are strictly FIFO; a mismatch means we lost track of the stream.
            request.Fail(new ConnectionLossException($"Reply xid {xid} does not match the oldest request xid {request.Xid}"));
            throw new ConnectionLossException($"{Server} replied out of order (xid {xid}, expected {request.Xid})");
        }

        Volatile.Write(ref _lastReplyXid, xid);
        // Update lastZxid before the caller sees its result: a read after this reply must not go backwards.
        if (zxid > 0)
            _owner.OnZxid(zxid);
        _owner.OnAcknowledged(request.SentTimestamp);
        try
        {
            request.Complete(err, ref reader, _owner);
        }
        catch (Exception ex)
        {
            // A body we cannot parse leaves the stream position unknown: fail this request and break.
            request.Fail(new ConnectionLossException($"Malformed reply to {request.Op}: {ex.Message}", ex));
            throw;
        }
    }
}
