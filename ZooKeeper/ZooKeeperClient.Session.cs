using System.Net.Security;
using System.Net.Sockets;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>Outcome of one handshake attempt.</summary>
    private enum AttemptOutcome
    {
        Connected,
        Refused,
        Expired,
    }

    private async Task OpenFirstConnectionAsync(CancellationToken cancellationToken)
    {
        SetState(ConnectionState.Connecting, null);
        // One time budget shared by every host (Npgsql-style), so a long host list cannot multiply the wait.
        using var budget = new CancellationTokenSource(_options.ConnectTimeout, _time);
        // Once every server has failed the TLS handshake, more tries within this budget would only fail the same
        // way: give up at once with the TLS failure (the caller decides whether and when to try again).
        using var tlsRefused = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token, budget.Token, tlsRefused.Token);
        var started = _time.GetTimestamp();
        Exception? last = null;
        var tlsFailures = 0;
        try
        {
            var connection = await _connect.ExecuteAsync<Connection>(async token =>
            {
                var remaining = _options.ConnectTimeout - _time.GetElapsedTime(started);
                // As for reconnects: one stalled handshake must not consume the whole budget.
                var share = TimeSpan.FromMilliseconds(Math.Max(1000, _options.ConnectTimeout.TotalMilliseconds / Math.Max(3, _hosts.Length)));
                try
                {
                    var (outcome, connection) = await TryConnectAsync(share < remaining ? share : remaining, token).ConfigureAwait(false);
                    return outcome == AttemptOutcome.Connected
                        ? connection!
                        : throw new ConnectionLossException("the server closed the connection without a session (behind our zxid, or not serving)");
                }
                catch (Exception ex) when (ex is SocketException or ZooKeeperException or IOException)
                {
                    last = ex;
                    if (ex is ZooKeeperTlsException && ++tlsFailures >= _hosts.Length)
                        await tlsRefused.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }, stop.Token).ConfigureAwait(false);
            _sessionLoop = Task.Run(() => RunSessionAsync(connection));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (last is ZooKeeperTlsException tls)
                throw new ZooKeeperTlsException($"Could not open a ZooKeeper session on {_options.ConnectionString}: {tls.Message}", tls);
            throw new ConnectionLossException(
                $"Could not open a ZooKeeper session on {_options.ConnectionString} within {_options.ConnectTimeout.TotalSeconds:0.#} s",
                last ?? ex);
        }
    }

    /// <summary>The session's lifetime after the first connection: wait for the connection to break, report
    /// Suspended, reconnect (keeping the session), until expiry or close.</summary>
    private async Task RunSessionAsync(Connection connection)
    {
        try
        {
            await SuperviseAsync(connection).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Never leave a session Suspended forever behind a bug: end it visibly instead.
            Expire($"internal error in the session loop: {ex.Message}");
        }
    }

    private async Task SuperviseAsync(Connection connection)
    {
        while (true)
        {
            var reason = await connection.Closed.ConfigureAwait(false);
            if (_shutdown.IsCancellationRequested || Volatile.Read(ref _closing) != 0 || State == ConnectionState.Expired)
                return;
            // The state already turned Suspended inside Break (OnBroken); this is the reconnect side.
            Log.ConnectionLost(_logger, SessionId, connection.Server, reason.Message);
            var next = await ReconnectAsync(connection.LastReceiveTimestamp).ConfigureAwait(false);
            if (next is null)
                return;
            ZooKeeperMetrics.Reconnects.Add(1);
            connection = next;
        }
    }

    /// <summary>Tries the servers round-robin (<c>zookeeper.reconnect</c>) until one resumes the session. Returns
    /// null when the session expired (said by a server, or presumed by <see cref="SessionExpiry"/> once cut off
    /// longer than the timeout, on the client's clock) or the client closed.</summary>
    private async Task<Connection?> ReconnectAsync(long lastHeard)
    {
        var timeoutMs = Volatile.Read(ref _negotiatedTimeoutMs);
        var expiry = new SessionExpiry(_time, lastHeard, TimeSpan.FromMilliseconds(timeoutMs), _options.ExpireLocallyWhenDisconnected);
        if (_shutdown.IsCancellationRequested)
            return null;
        if (expiry.IsExpired)
        {
            Expire(expiry.Reason);
            return null;
        }

        // The attempts and their pauses end at once when the session must be presumed expired.
        using var presumedExpired = new CancellationTokenSource(expiry.Left, _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token, presumedExpired.Token);
        var attempt = 0;
        try
        {
            return await _reconnect.ExecuteAsync<Connection?>(async token =>
            {
                attempt++;
                // Each attempt gets a share of the session timeout (the Java client splits it by host count),
                // but at most a third of it: a handshake lost in a black hole or a cut must leave time for
                // more attempts, even with a single host. A healthy server answers in milliseconds.
                var share = TimeSpan.FromMilliseconds(Math.Max(500, timeoutMs / Math.Max(3, _hosts.Length)));
                var left = expiry.Left;
                var attemptTimeout = share < left ? share : left;
                if (attemptTimeout > _options.ConnectTimeout)
                    attemptTimeout = _options.ConnectTimeout;
                try
                {
                    var (outcome, connection) = await TryConnectAsync(attemptTimeout, token).ConfigureAwait(false);
                    switch (outcome)
                    {
                        case AttemptOutcome.Connected:
                            return connection;
                        case AttemptOutcome.Expired:
                            return null;
                    }

                    throw new ConnectionLossException("the server closed the connection without resuming the session (behind our zxid, or not serving)");
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Whatever went wrong with this server (refused, reset, timed out, or anything unforeseen), the
                    // pipeline tries the next one; the expiry bounds it. The expected failures were logged where
                    // they happened.
                    if (ex is not (SocketException or ZooKeeperException or IOException or OperationCanceledException))
                        Log.ConnectAttemptFailed(_logger, "(reconnect)", ex.ToString());
                    if (attempt % _hosts.Length == 0)
                        Log.AllServersFailed(_logger, _hosts.Length);
                    throw;
                }
            }, stop.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_shutdown.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception) when (presumedExpired.IsCancellationRequested || expiry.IsExpired)
        {
            Expire(expiry.Reason);
            return null;
        }
    }

    /// <summary>One handshake with the next server. On success the connection is primed (auth replayed, watches
    /// re-registered) and published before the state turns Connected, so no request can overtake the priming.</summary>
    private async Task<(AttemptOutcome, Connection?)> TryConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (host, port) = _hosts[_nextHost];
        _nextHost = (_nextHost + 1) % _hosts.Length;
        var server = $"{host}:{port}";
        var isReconnect = SessionId != 0;
        // Always the same session id and password on reconnect; lastZxidSeen lets a lagging server refuse us.
        var request = new ConnectRequest(LastZxid, (int)_options.SessionTimeout.TotalMilliseconds, SessionId, _password);
        Socket socket;
        SslStream? tls;
        ConnectResponse? response;
        var handshakeStarted = _time.GetTimestamp();
        try
        {
            (socket, tls, response) = await Handshake.ConnectAsync(host, port, request, timeout, _time, cancellationToken, _options.Tls).ConfigureAwait(false);
        }
        catch (ZooKeeperTlsException ex)
        {
            // Loud, unlike other failed attempts: a TLS failure is a configuration problem more often than not.
            // The connect and reconnect pipelines bound how often it repeats.
            Log.TlsHandshakeFailed(_logger, server, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is SocketException or ZooKeeperException or IOException)
        {
            Log.ConnectAttemptFailed(_logger, server, ex.Message);
            throw;
        }

        if (Volatile.Read(ref _closing) != 0)
        {
            // Closed while the handshake was in flight: do not resurrect the session.
            tls?.Dispose();
            socket.Dispose();
            throw new OperationCanceledException("Client closed");
        }

        if (response is not { } answer)
        {
            tls?.Dispose();
            socket.Dispose();
            Log.HandshakeRefused(_logger, server, LastZxid);
            return (AttemptOutcome.Refused, null);
        }

        if (answer.IsExpired)
        {
            tls?.Dispose();
            socket.Dispose();
            if (isReconnect)
            {
                Expire($"server {server} reports the session expired");
                return (AttemptOutcome.Expired, null);
            }

            throw new ConnectionLossException($"Server {server} refused a new session");
        }

        if (!isReconnect)
        {
            // The session id and password are fixed for the session's life; only the first answer sets them.
            Interlocked.Exchange(ref _sessionId, answer.SessionId);
            _password = answer.Password;
            var requested = (int)_options.SessionTimeout.TotalMilliseconds;
            if (answer.TimeoutMs != requested)
                Log.TimeoutNegotiated(_logger, requested, answer.TimeoutMs);
        }

        // A reconnect may negotiate again (another server, other bounds): the connection timers follow it.
        Volatile.Write(ref _negotiatedTimeoutMs, answer.TimeoutMs);
        // The handshake itself proves the session alive from (before) its send on.
        RecordAcknowledged(handshakeStarted);
        // Persistent watches learn about the gap before the new connection can deliver anything: the resync
        // cue (type None) always precedes the events that follow the reconnect.
        if (isReconnect)
            _watches.NotifyResync();
        var connection = new Connection(socket, this, server, answer.TimeoutMs, _options.RequestTimeout, _time, tls);
        connection.Start();
        Prime(connection);
        Volatile.Write(ref _connection, connection);
        Log.Connected(_logger, SessionId, server, answer.TimeoutMs, isReconnect);
        SetState(ConnectionState.Connected, null, server);
        return (AttemptOutcome.Connected, connection);
    }

    /// <summary>Queues, in order, every authentication and the watch re-registration (setWatches2 in batches
    /// under 128 KiB, relative to lastZxid: the server then fires what changed while we were away).</summary>
    private void Prime(Connection connection)
    {
        ZooKeeperAuthInfo[] auths;
        lock (_authInfos)
            auths = [.. _authInfos];
        foreach (var auth in auths)
            SendAuth(connection, auth);

        if (_watches.IsEmpty)
            return;
        var (data, exist, child, persistent, recursive) = _watches.Snapshot();
        var relativeZxid = LastZxid;
        Log.ReregisteringWatches(_logger, SessionId, data.Count + exist.Count + child.Count + persistent.Count + recursive.Count, relativeZxid);
        foreach (var batch in SetWatchesBatcher.Batch(relativeZxid, ToServer(data), ToServer(exist), ToServer(child), ToServer(persistent), ToServer(recursive)))
            connection.TrySend(batch.Buffer, batch.Length, null);
    }

    private List<string> ToServer(List<string> paths)
    {
        for (var i = 0; i < paths.Count; i++)
            paths[i] = ToServerPath(paths[i]);
        return paths;
    }

    private static void SendAuth(Connection connection, ZooKeeperAuthInfo auth)
    {
        var writer = JuteWriter.ForRequest(OpCode.Auth, 16 + auth.Scheme.Length + auth.Auth.Length);
        writer.WriteInt(0);
        writer.WriteString(auth.Scheme);
        writer.WriteBuffer(auth.Auth.Span);
        var (buffer, length) = writer.Complete();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(JuteWriter.XidOffset), Xids.Auth);
        connection.TrySend(buffer, length, null);
    }

    /// <summary>Ends the session for good: reports Expired once, fails the watches.</summary>
    private void Expire(string reason)
    {
        var error = new SessionExpiredException($"ZooKeeper session 0x{SessionId:x} expired: {reason}");
        Log.SessionExpired(_logger, SessionId, reason);
        ZooKeeperMetrics.Expirations.Add(1);
        // Defensive: should a connection still be up, it must not carry requests of an expired session.
        Volatile.Read(ref _connection)?.Break(error);
        SetState(ConnectionState.Expired, error);
        _watches.EndAll(error);
    }
}
