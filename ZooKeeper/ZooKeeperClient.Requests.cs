using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient : IConnectionOwner
{
    private volatile bool _authFailed;
    // Timestamps of a TimeProvider may start anywhere (a fake clock at 0): "none yet" is a value no clock gives.
    private const long NeverAcknowledged = long.MinValue;
    private long _lastAcknowledgedSend = NeverAcknowledged;

    /// <summary>Queues a request on the current connection. Fails fast (without sending) when not connected:
    /// the request could not be answered before a reconnect, and ZooKeeper clients never resend by themselves.
    /// Every public operation comes through here, so this is where its client span starts (in the caller's context;
    /// it stops when the reply completes the task). With no listener that costs one check.</summary>
    private Task<T> Submit<T>(ref JuteWriter writer, PendingReply<T> request, CancellationToken cancellationToken)
    {
        var connection = Volatile.Read(ref _connection);
        var state = State;
        var activity = ZooKeeperTracing.Start(request.Op, request.Path, request.State, state == ConnectionState.Connected ? connection : null);
        Task<T> reply;
        if (connection is null || state != ConnectionState.Connected)
        {
            writer.Dispose();
            reply = Task.FromException<T>(NotConnected(state));
        }
        else
        {
            // Should the connection break right after this check, TrySend refuses and the request fails with
            // the break's reason: the same ConnectionLoss the caller would have seen a moment later.
            reply = SubmitOn(connection, ref writer, request, cancellationToken);
        }

        return activity is null ? reply : ZooKeeperTracing.Traced(reply, activity);
    }

    private static Task<T> SubmitOn<T>(Connection connection, ref JuteWriter writer, PendingReply<T> request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            writer.Dispose();
            return Task.FromCanceled<T>(cancellationToken);
        }

        var (buffer, length) = writer.Complete();
        // Registered before queuing, so a cancellation cannot fall between queuing and registration.
        request.RegisterCancellation(cancellationToken);
        if (!connection.TrySend(buffer, length, request))
            request.Fail(connection.BreakReason ?? new ConnectionLossException());
        return request.Task;
    }

    private Exception NotConnected(ConnectionState state) => state switch
    {
        ConnectionState.Expired => new SessionExpiredException($"ZooKeeper session 0x{SessionId:x} has expired; open a new client"),
        ConnectionState.Closed => new ObjectDisposedException(nameof(ZooKeeperClient)),
        _ => new ConnectionLossException($"Not connected to ZooKeeper (state {state}); retry once reconnected"),
    };

    /// <summary>Prefixes the chroot.</summary>
    internal string ToServerPath(string clientPath) => ChrootPath.ToServer(_target.Chroot, clientPath);

    /// <summary>Strips the chroot from a server path.</summary>
    internal string ToClientPath(string serverPath) => ChrootPath.ToClient(_target.Chroot, serverPath);

    string IReplyContext.ToClientPath(string serverPath) => ToClientPath(serverPath);

    void IReplyContext.RegisterWatch(WatchRegistration registration) => _watches.Register(registration);

    void IReplyContext.RecordCompletion(PendingReply request, int err) => ZooKeeperMetrics.RecordReply(request, err);

    void IConnectionOwner.OnZxid(long zxid)
    {
        // Monotonic max: replies are processed by one read loop, but pings and the next connection may race.
        var seen = Interlocked.Read(ref _lastZxid);
        while (zxid > seen)
        {
            var prior = Interlocked.CompareExchange(ref _lastZxid, zxid, seen);
            if (prior == seen)
                return;
            seen = prior;
        }
    }

    void IConnectionOwner.OnNotification(WatchEventType type, int state, string serverPath)
    {
        // Session-level events (type None) are not sent by 3.8 servers; connection state has its own stream.
        if (type == WatchEventType.None)
            return;
        if (!ChrootPath.IsUnder(_target.Chroot, serverPath))
            return;
        _watches.Dispatch(type, ToClientPath(serverPath));
    }

    void IConnectionOwner.OnAuthReply(int err)
    {
        if (err == 0)
            return;
        _authFailed = true;
        Log.AuthFailed(_logger, (ErrorCode)err);
    }

    void IConnectionOwner.OnAcknowledged(long sentTimestamp) => RecordAcknowledged(sentTimestamp);

    private void RecordAcknowledged(long sentTimestamp)
    {
        // Monotonic max, as for the zxid: replies of an older connection may still be processed.
        var known = Interlocked.Read(ref _lastAcknowledgedSend);
        while (sentTimestamp > known)
        {
            var prior = Interlocked.CompareExchange(ref _lastAcknowledgedSend, sentTimestamp, known);
            if (prior == known)
                return;
            known = prior;
        }
    }

    void IConnectionOwner.OnBroken(Connection connection, Exception reason)
    {
        // Only the current connection of a session that is not closing turns the state to Suspended.
        if (Volatile.Read(ref _closing) == 0 && ReferenceEquals(Volatile.Read(ref _connection), connection) && reason is not SessionExpiredException)
            SetState(ConnectionState.Suspended, reason);
    }

    void IConnectionOwner.OnSetWatchesReply(int err)
    {
        if (err != 0)
            Log.SetWatchesFailed(_logger, (ErrorCode)err);
    }
}
