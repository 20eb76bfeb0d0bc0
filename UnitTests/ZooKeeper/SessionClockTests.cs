using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

/// <summary>
/// Time in the ZooKeeper client runs on <see cref="ZooKeeperClientOptions.TimeProvider"/>: session expiry when cut
/// off, the connection's read timeout, request timeouts and <see cref="ZooKeeperClient.ProvablyAliveFor"/>, driven
/// here by a fake clock against a scripted server on loopback that completes the handshake and then says nothing.
/// </summary>
public sealed class SessionClockTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_session_is_presumed_expired_once_no_server_was_heard_for_the_session_timeout()
    {
        var time = new ManualTimeProvider();
        var lastHeard = time.GetTimestamp();
        var expiry = new SessionExpiry(time, lastHeard, TimeSpan.FromSeconds(3), expireLocally: true);

        time.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.False(expiry.IsExpired);
        Assert.Equal(TimeSpan.FromMilliseconds(1), expiry.Left);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(expiry.IsExpired);
        Assert.Contains("3000 ms", expiry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_local_expiry_the_client_still_gives_up_after_ten_timeouts()
    {
        var time = new ManualTimeProvider();
        var expiry = new SessionExpiry(time, time.GetTimestamp(), TimeSpan.FromSeconds(3), expireLocally: false);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(expiry.IsExpired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(expiry.IsExpired);
    }

    [Fact]
    public async Task A_client_cut_off_from_every_server_suspends_at_two_thirds_and_expires_at_the_timeout_of_its_clock()
    {
        var time = new ManualTimeProvider();
        await using var server = SilentServer.Start(sessionTimeoutMs: 3000);
        var connecting = ZooKeeperClient.ConnectAsync(Options(server, time));
        await server.HandshakeAsync();
        await using var client = await connecting.WaitAsync(Wait);
        var states = new ConcurrentQueue<ConnectionState>();
        await using var changes = client.WatchStateAsync().GetAsyncEnumerator();
        Assert.True(await changes.MoveNextAsync()); // subscribed: the current state comes first
        states.Enqueue(changes.Current.State);
        var watching = Task.Run(async () =>
        {
            while (await changes.MoveNextAsync())
                states.Enqueue(changes.Current.State);
        });
        server.StopListening(); // every reconnect is refused from now on

        // The server answered the handshake sent at 0 ms: the session provably lives until 3000 ms.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), client.ProvablyAliveFor);
        Assert.Equal(ConnectionState.Connected, client.State);

        // Nothing received for 2/3 of the timeout: the connection is declared dead (heartbeat every 500 ms).
        await AdvanceAsync(time, TimeSpan.FromMilliseconds(1500));
        await Eventually.UntilAsync(() => client.State == ConnectionState.Suspended, Wait);

        // Reconnecting fails (refused) again and again on the fake clock, but the session is not given up early.
        await AdvanceAsync(time, TimeSpan.FromMilliseconds(499));
        Assert.Equal(TimeSpan.FromMilliseconds(1), client.ProvablyAliveFor);
        Assert.Equal(ConnectionState.Suspended, client.State);

        await AdvanceAsync(time, TimeSpan.FromMilliseconds(1));
        await Eventually.UntilAsync(() => client.State == ConnectionState.Expired, Wait);
        await watching.WaitAsync(Wait);
        Assert.Equal([ConnectionState.Connected, ConnectionState.Suspended, ConnectionState.Expired], states);
        Assert.Equal(TimeSpan.Zero, client.ProvablyAliveFor);
        await Assert.ThrowsAsync<SessionExpiredException>(() => client.GetDataAsync("/x"));
    }

    [Fact]
    public async Task A_request_without_a_reply_times_out_on_the_clients_clock()
    {
        var time = new ManualTimeProvider();
        await using var server = SilentServer.Start(sessionTimeoutMs: 30_000);
        var options = Options(server, time);
        options.RequestTimeout = TimeSpan.FromSeconds(2);
        var connecting = ZooKeeperClient.ConnectAsync(options);
        await server.HandshakeAsync();
        var client = await connecting.WaitAsync(Wait);

        var read = client.GetDataAsync("/never-answered");
        await server.ReadFrameAsync(); // the request went out (its deadline counts from here)
        await AdvanceAsync(time, TimeSpan.FromMilliseconds(1500));
        Assert.False(read.IsCompleted);

        await AdvanceAsync(time, TimeSpan.FromSeconds(1)); // the heartbeat (every 500 ms) finds it overdue
        await Assert.ThrowsAsync<RequestTimeoutException>(() => read.WaitAsync(Wait));
        Assert.Equal(ConnectionState.Connected, client.State); // the connection is kept

        // Closing waits for the server to confirm at most 3 s (or the request timeout), on the client's clock too.
        var closing = client.CloseAsync();
        await AdvanceAsync(time, TimeSpan.FromSeconds(3));
        await closing.WaitAsync(Wait);
        Assert.Equal(ConnectionState.Closed, client.State);
    }

    private static ZooKeeperClientOptions Options(SilentServer server, ManualTimeProvider time) => new()
    {
        ConnectionString = server.ConnectionString,
        SessionTimeout = TimeSpan.FromMilliseconds(server.SessionTimeoutMs),
        TimeProvider = time,
    };

    /// <summary>Moves the clock in steps of 100 ms, letting what each step fired run before the next.</summary>
    private static async Task AdvanceAsync(ManualTimeProvider time, TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(100);
        for (var left = by; left > TimeSpan.Zero; left -= step)
        {
            time.Advance(left < step ? left : step);
            await Task.Yield();
        }
    }

    /// <summary>Accepts one session (a handshake answer with the given timeout), then reads what the client sends
    /// and never answers.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private Socket? _socket;

        private SilentServer(TcpListener listener, int sessionTimeoutMs)
        {
            _listener = listener;
            SessionTimeoutMs = sessionTimeoutMs;
        }

        public int SessionTimeoutMs { get; }

        public string ConnectionString => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public static SilentServer Start(int sessionTimeoutMs)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new SilentServer(listener, sessionTimeoutMs);
        }

        public async Task HandshakeAsync()
        {
            using var cts = new CancellationTokenSource(Wait);
            _socket = await _listener.AcceptSocketAsync(cts.Token);
            await ReadFrameAsync();
            var response = new byte[4 + 37];
            var body = response.AsSpan(4);
            BinaryPrimitives.WriteInt32BigEndian(response, 37);
            BinaryPrimitives.WriteInt32BigEndian(body, 0);                    // protocolVersion
            BinaryPrimitives.WriteInt32BigEndian(body[4..], SessionTimeoutMs); // negotiated timeout
            BinaryPrimitives.WriteInt64BigEndian(body[8..], 0x1234);           // session id
            BinaryPrimitives.WriteInt32BigEndian(body[16..], 16);              // password length, 16 zero bytes, readOnly false
            await _socket.SendAsync(response, SocketFlags.None, cts.Token);
        }

        public void StopListening() => _listener.Stop();

        public async Task<byte[]> ReadFrameAsync()
        {
            var header = new byte[4];
            await ReadExactlyAsync(header);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
            await ReadExactlyAsync(body);
            return body;
        }

        private async Task ReadExactlyAsync(byte[] buffer)
        {
            using var cts = new CancellationTokenSource(Wait);
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await _socket!.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
                if (n == 0)
                    throw new IOException("the client closed the connection");
                read += n;
            }
        }

        public ValueTask DisposeAsync()
        {
            _listener.Stop();
            _socket?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
