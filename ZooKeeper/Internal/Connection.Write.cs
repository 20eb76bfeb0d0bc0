using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace ControlPlane.ZooKeeper.Internal;

internal sealed partial class Connection
{
    // Frames are coalesced into one send of up to this size: pipelined callers then cost one syscall per batch.
    private const int BatchSize = 64 * 1024;

    // Coalescing only pays when many requests are in flight; a lone request goes out at once.
    private const int CoalesceBelow = 8;

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // Under pipelined load the callers' continuations are about to queue more requests: yield once
                // so they can, and one send carries them all (fewer syscalls here and on the server).
                if (InFlight > CoalesceBelow)
                    await Task.Yield();
                var (batch, used) = TakeBatch();
                if (batch is null)
                {
                    if (IsBroken)
                        break;
                    continue;
                }

                try
                {
                    if (_tls is null)
                    {
                        var sent = 0;
                        while (sent < used)
                            sent += await _socket.SendAsync(batch.AsMemory(sent, used - sent), SocketFlags.None).ConfigureAwait(false);
                    }
                    else
                    {
                        // One write of the whole batch: SslStream splits it into records itself.
                        await _tls.WriteAsync(batch.AsMemory(0, used)).ConfigureAwait(false);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch);
                }

                Volatile.Write(ref _lastSendTicks, _time.GetTimestamp());
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
        finally
        {
            // Whatever is still queued was never sent: fail it with the break reason.
            var reason = BreakReason ?? Break(new ConnectionLossException("Writer stopped"));
            while (reader.TryRead(out var item))
            {
                ArrayPool<byte>.Shared.Return(item.Buffer);
                item.Pending?.Fail(reason);
            }
        }
    }

    /// <summary>Moves queued frames into one send buffer. Xids are assigned and requests enqueued on the
    /// pending FIFO before any byte leaves: a reply can never overtake its request's entry. Returns a null
    /// batch when the connection broke meanwhile.</summary>
    private (byte[]? Batch, int Used) TakeBatch()
    {
        var reader = _outgoing.Reader;
        byte[]? batch = null;
        var used = 0;
        while (reader.TryPeek(out var next))
        {
            if (batch is not null && used + next.Length > batch.Length)
                break;
            reader.TryRead(out var item);
            if (Volatile.Read(ref _breakReason) is { } broken)
            {
                ArrayPool<byte>.Shared.Return(item.Buffer);
                item.Pending?.Fail(broken);
                continue;
            }

            batch ??= ArrayPool<byte>.Shared.Rent(Math.Max(BatchSize, item.Length));
            // Taken before the send: an earlier bound on when the server saw the frame, so a session
            // lifetime derived from it errs on the safe side.
            var now = _time.GetTimestamp();
            if (item.IsPing)
                _pingSends.Enqueue(now);
            if (item.Pending is { } request)
            {
                request.SentTimestamp = now;
                request.Xid = NextXid();
                BinaryPrimitives.WriteInt32BigEndian(item.Buffer.AsSpan(JuteWriter.XidOffset), request.Xid);
                if (_requestTimeout != long.MaxValue)
                    request.DeadlineTicks = now + _requestTimeout;
                _pending.Enqueue(request);
            }

            item.Buffer.AsSpan(0, item.Length).CopyTo(batch.AsSpan(used));
            used += item.Length;
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }

        // A break that raced with the enqueues above may have drained before them: drain again.
        if (Volatile.Read(ref _breakReason) is { } reason)
        {
            DrainPending(reason);
            if (batch is not null)
                ArrayPool<byte>.Shared.Return(batch);
            return (null, 0);
        }

        return (batch, used);
    }
}
