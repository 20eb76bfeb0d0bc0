using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>A frame queued for the writer loop. Frames with a <see cref="Pending"/> request get their xid
/// patched in when written; frames without (ping, auth, setWatches) carry a reserved xid already.</summary>
internal readonly record struct Outgoing(byte[] Buffer, int Length, PendingReply? Pending, bool IsPing = false);

/// <summary>What the connection reports to its session.</summary>
internal interface IConnectionOwner : IReplyContext
{
    /// <summary>A reply to a normal request (or ping) carried this zxid (&gt; 0).</summary>
    void OnZxid(long zxid);

    /// <summary>A watch notification (server path, chroot still on).</summary>
    void OnNotification(WatchEventType type, int state, string serverPath);

    /// <summary>The reply to an auth packet (xid -4).</summary>
    void OnAuthReply(int err);

    /// <summary>The reply to a setWatches packet (xid -8).</summary>
    void OnSetWatchesReply(int err);

    /// <summary>The server answered a request or ping that was sent at <paramref name="sentTimestamp"/>
    /// (a timestamp of the session's <see cref="TimeProvider"/>): the session was alive on the server at or after it.</summary>
    void OnAcknowledged(long sentTimestamp);

    /// <summary>The connection just broke (called once, synchronously, before pending requests are failed), so
    /// the session's state is Suspended before any caller sees its ConnectionLoss.</summary>
    void OnBroken(Connection connection, Exception reason);
}

/// <summary>One TCP connection of a session (through TLS when the client has TLS options), after a successful handshake: a single read loop, a single
/// batching write loop fed by a channel, a FIFO of pending requests and a heartbeat timer. No thread is
/// dedicated to it; idle, it costs two awaiting state machines, a timer and no receive buffer.
/// Everything that ends it goes through <see cref="Break"/>. Every time it judges (read timeout, ping interval,
/// request deadlines, send times) is a timestamp of its <see cref="TimeProvider"/>, whose timer drives the
/// heartbeat, so tests can run it on a fake clock.</summary>
internal sealed partial class Connection
{
    private readonly Socket _socket;
    // The TLS session over _socket, or null for plaintext (then reads and writes go to the socket directly).
    private readonly SslStream? _tls;
    private readonly IConnectionOwner _owner;
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions
    {
        SingleReader = true,
        AllowSynchronousContinuations = false,
    });
    // The FIFO between the write loop (enqueue) and the read loop (dequeue). Lock-free: on two cores a lock
    // taken per reply and per batch showed up as spinning. Every entry is dequeued exactly once, by the read
    // loop (its reply) or by DrainPending (a break), and whoever dequeues it completes it.
    private readonly ConcurrentQueue<PendingReply> _pending = new();

    // Send times of unanswered pings, oldest first (the server answers pings in order with requests).
    private readonly ConcurrentQueue<long> _pingSends = new();
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time;
    private readonly int _readTimeoutMs;
    private readonly int _pingIntervalMs;
    private readonly long _requestTimeoutMs;
    // The same three in timestamp units of _time (long.MaxValue: no request timeout).
    private readonly long _readTimeout;
    private readonly long _pingInterval;
    private readonly long _requestTimeout;
    private ITimer? _heartbeat;
    private Exception? _breakReason;
    private int _xid;
    private int _lastReplyXid;
    private long _lastReceiveTicks;
    private long _lastSendTicks;

    public Connection(Socket socket, IConnectionOwner owner, string server, int negotiatedTimeoutMs, TimeSpan requestTimeout,
        TimeProvider? time = null, SslStream? tls = null)
    {
        _socket = socket;
        _tls = tls;
        _owner = owner;
        _time = time ?? TimeProvider.System;
        Server = server;
        // For span tags (ZooKeeperTracing): split once here rather than per request.
        var colon = server.LastIndexOf(':');
        ServerHost = colon > 0 ? server[..colon] : server;
        ServerPort = colon > 0 && int.TryParse(server.AsSpan(colon + 1), out var port) ? port : 0;
        // The classic client timings: the server expires us after the full timeout, so declare the link dead
        // at 2/3 of it and ping when we have been quiet for 1/3 (but at least every 10 s).
        _readTimeoutMs = Math.Max(1, negotiatedTimeoutMs * 2 / 3);
        _pingIntervalMs = Math.Clamp(negotiatedTimeoutMs / 3, 1, 10_000);
        _requestTimeoutMs = requestTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)requestTimeout.TotalMilliseconds;
        _readTimeout = TimestampSpan(_readTimeoutMs);
        _pingInterval = TimestampSpan(_pingIntervalMs);
        _requestTimeout = _requestTimeoutMs == long.MaxValue ? long.MaxValue : TimestampSpan(_requestTimeoutMs);
        _lastReceiveTicks = _lastSendTicks = _time.GetTimestamp();
    }

    /// <summary>"host:port" of the server.</summary>
    public string Server { get; }

    /// <summary>The host of <see cref="Server"/>.</summary>
    public string ServerHost { get; }

    /// <summary>The port of <see cref="Server"/> (0 if it names none).</summary>
    public int ServerPort { get; }

    /// <summary>Completes with the reason once the connection is broken.</summary>
    public Task<Exception> Closed => _closed.Task;

    /// <summary>Timestamp (of the session's <see cref="TimeProvider"/>) of the last byte received, for local expiry.</summary>
    public long LastReceiveTimestamp => Volatile.Read(ref _lastReceiveTicks);

    public bool IsBroken => Volatile.Read(ref _breakReason) is not null;

    /// <summary>Starts the loops and the heartbeat.</summary>
    public void Start()
    {
        _ = Task.Run(ReadLoopAsync);
        _ = Task.Run(WriteLoopAsync);
        // Tick fast enough for the ping interval, the read timeout and request timeouts, but no faster
        // than needed: thousands of idle sessions must cost almost nothing.
        var tick = (int)Math.Clamp(Math.Min(Math.Min(_pingIntervalMs / 2, _readTimeoutMs / 4), _requestTimeoutMs / 4), 20, 2000);
        _heartbeat = _time.CreateTimer(static s => ((Connection)s!).OnHeartbeat(), this,
            TimeSpan.FromMilliseconds(tick), TimeSpan.FromMilliseconds(tick));
    }

    /// <summary>Queues a frame. On false the connection is broken: the buffer was returned to the pool and the
    /// caller should fail its request with <see cref="BreakReason"/>.</summary>
    public bool TrySend(byte[] buffer, int length, PendingReply? pending, bool isPing = false)
    {
        if (_outgoing.Writer.TryWrite(new Outgoing(buffer, length, pending, isPing)))
            return true;
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return false;
    }

    /// <summary>Why the connection broke (a <see cref="ZooKeeperException"/>), or null while it is up.</summary>
    public Exception? BreakReason => Volatile.Read(ref _breakReason);

    /// <summary>The one way a connection ends: records the first reason, stops the loops, fails every pending
    /// request with it and returns it (so callers can <c>throw Break(...)</c>).</summary>
    public Exception Break(Exception reason)
    {
        if (reason is not ZooKeeperException)
            reason = new ConnectionLossException($"Connection to {Server} lost: {reason.Message}", reason);
        var first = Interlocked.CompareExchange(ref _breakReason, reason, null);
        if (first is not null)
            return first;

        _owner.OnBroken(this, reason);
        _outgoing.Writer.TryComplete();
        _heartbeat?.Dispose();
        try
        {
            // Shutdown wakes the pending receive and send at once; dispose releases the handle.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing to shut down.
        }
        catch (ObjectDisposedException)
        {
        }

        _tls?.Dispose();
        _socket.Dispose();
        DrainPending(reason);
        _closed.TrySetResult(reason);
        return reason;
    }

    /// <summary>Fails every request still in the FIFO. Called by Break, and by the write loop when it enqueued
    /// while a break was under way (so nothing enqueued after Break's own drain can be forgotten).</summary>
    private void DrainPending(Exception reason)
    {
        while (_pending.TryDequeue(out var request))
            request.Fail(reason);
    }

    /// <summary>Requests sent and not yet answered, approximately (a heuristic: xids wrap).</summary>
    private int InFlight
    {
        get
        {
            var inFlight = Volatile.Read(ref _xid) - Volatile.Read(ref _lastReplyXid);
            return inFlight < 0 ? 0 : inFlight;
        }
    }

    private void OnHeartbeat()
    {
        if (IsBroken)
            return;
        var now = _time.GetTimestamp();
        if (now - Volatile.Read(ref _lastReceiveTicks) > _readTimeout)
        {
            Break(new ConnectionLossException($"No reply from {Server} for {_readTimeoutMs} ms (2/3 of the session timeout)"));
            return;
        }

        if (now - Volatile.Read(ref _lastSendTicks) >= _pingInterval)
            SendPing();

        if (_requestTimeoutMs != long.MaxValue)
            SweepTimeouts(now);
    }

    private void SendPing()
    {
        var writer = JuteWriter.ForRequest(OpCode.Ping, 0);
        var (buffer, length) = writer.Complete();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(JuteWriter.XidOffset), Xids.Ping);
        TrySend(buffer, length, null, isPing: true);
    }

    /// <summary>Fails requests whose reply is overdue. They stay queued: their reply, if it ever comes,
    /// must still be consumed in order, and is then dropped.</summary>
    private void SweepTimeouts(long now)
    {
        List<PendingReply>? overdue = null;
        // Enumerating a ConcurrentQueue is a safe moment-in-time snapshot.
        foreach (var request in _pending)
        {
            // Deadlines grow along the FIFO, so the first one in the future ends the scan.
            if (request.DeadlineTicks > now)
                break;
            if (!request.IsCompleted)
                (overdue ??= []).Add(request);
        }

        if (overdue is null)
            return;
        foreach (var request in overdue)
            request.Fail(new RequestTimeoutException(request.Path, $"No reply to {request.Op} within {_requestTimeoutMs} ms"));
    }

    /// <summary><paramref name="milliseconds"/> in timestamp units of the connection's clock.</summary>
    private long TimestampSpan(long milliseconds) => (long)(milliseconds * (_time.TimestampFrequency / 1000.0));

    private int NextXid()
    {
        // Normal xids are positive and wrap back to 1; the negatives are reserved.
        _xid = _xid == int.MaxValue ? 1 : _xid + 1;
        return _xid;
    }
}
