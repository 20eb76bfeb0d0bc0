using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ControlPlane.ZooKeeper;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

/// <summary>The connection's framing, FIFO matching and break path against a scripted fake server on a
/// loopback socket (no ZooKeeper involved).</summary>
public sealed class ConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly FakeOwner _owner = new();
    private Socket _server = null!;
    private Connection _connection = null!;

    // A request timeout far beyond anything a loaded machine needs: only the test of timeouts sets a short one.
    public Task InitializeAsync() => ConnectAsync(TimeSpan.FromSeconds(30));

    private async Task ConnectAsync(TimeSpan requestTimeout)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        _server = await listener.AcceptSocketAsync();
        _connection = new Connection(client, _owner, "fake:1", 30_000, requestTimeout);
        _connection.Start();
    }

    public Task DisposeAsync()
    {
        _connection.Break(new ConnectionLossException("test over"));
        _server.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Replies_complete_requests_in_order_even_when_they_arrive_one_byte_at_a_time()
    {
        var requests = Enumerable.Range(0, 3).Select(i => Send("/n" + i)).ToArray();
        var xids = new List<int>();
        for (var i = 0; i < 3; i++)
            xids.Add((await ReadRequestAsync()).Xid);

        Assert.Equal([1, 2, 3], xids);
        var replies = xids.SelectMany(x => Reply(x, zxid: 100 + x, err: 0, (ref JuteWriter w) => { w.WriteBuffer(new[] { (byte)x }); JuteEncodingTests.WriteStat(ref w, Stat(x)); })).ToArray();
        foreach (var b in replies)
            await _server.SendAsync(new[] { b }, SocketFlags.None);

        for (var i = 0; i < 3; i++)
        {
            var result = await requests[i].Task.WaitAsync(Deadline);
            Assert.Equal(new byte[] { (byte)(i + 1) }, result.Data);
        }

        Assert.Equal(103, _owner.LastZxid);
        Assert.Equal(3, _owner.Acknowledged); // each answered request proves the session alive since its send
    }

    [Fact]
    public async Task An_error_reply_fails_only_its_own_request_with_the_typed_exception()
    {
        var missing = Send("/missing");
        var present = Send("/present");
        var first = await ReadRequestAsync();
        var second = await ReadRequestAsync();
        await _server.SendAsync(Reply(first.Xid, 5, (int)ErrorCode.NoNode, (ref JuteWriter _) => { }));
        await _server.SendAsync(Reply(second.Xid, 6, 0, (ref JuteWriter w) => { w.WriteBuffer(Array.Empty<byte>()); JuteEncodingTests.WriteStat(ref w, Stat(1)); }));

        var error = await Assert.ThrowsAsync<NoNodeException>(() => missing.Task.WaitAsync(Deadline));
        Assert.Equal("/missing", error.Path);
        Assert.Empty((await present.Task.WaitAsync(Deadline)).Data);
        Assert.False(_connection.IsBroken);
    }

    [Fact]
    public async Task A_reply_out_of_order_breaks_the_connection_and_fails_every_pending_request()
    {
        var requests = Enumerable.Range(0, 3).Select(i => Send("/n" + i)).ToArray();
        for (var i = 0; i < 3; i++)
            await ReadRequestAsync();

        await _server.SendAsync(Reply(2, 1, 0, (ref JuteWriter _) => { })); // xid 1 is the head

        foreach (var request in requests)
            await Assert.ThrowsAsync<ConnectionLossException>(() => request.Task.WaitAsync(Deadline));
        Assert.True(_connection.IsBroken);
        Assert.Equal(1, _owner.Broken);
        Assert.False(_connection.TrySend(ArrayPool<byte>.Shared.Rent(16), 16, null));
    }

    [Fact]
    public async Task The_server_closing_the_socket_fails_pending_requests_with_connection_loss()
    {
        var request = Send("/n");
        await ReadRequestAsync();
        _server.Shutdown(SocketShutdown.Both);

        await Assert.ThrowsAsync<ConnectionLossException>(() => request.Task.WaitAsync(Deadline));
        var reason = await _connection.Closed.WaitAsync(Deadline);
        Assert.IsType<ConnectionLossException>(reason);
    }

    [Fact]
    public async Task Notifications_and_pings_are_handled_outside_the_pending_queue()
    {
        var request = Send("/n");
        var sent = await ReadRequestAsync();
        await _server.SendAsync(Reply(Xids.Notification, -1, 0, (ref JuteWriter w) =>
        {
            w.WriteInt((int)WatchEventType.NodeDataChanged);
            w.WriteInt(3);
            w.WriteString("/watched");
        }));
        await _server.SendAsync(Reply(Xids.Ping, 50, 0, (ref JuteWriter _) => { }));
        await _server.SendAsync(Reply(sent.Xid, 60, 0, (ref JuteWriter w) => { w.WriteBuffer(Array.Empty<byte>()); JuteEncodingTests.WriteStat(ref w, Stat(1)); }));

        await request.Task.WaitAsync(Deadline);
        Assert.Equal([(WatchEventType.NodeDataChanged, "/watched")], _owner.Notifications);
        Assert.Equal(60, _owner.LastZxid);
    }

    [Fact]
    public async Task A_request_without_reply_times_out_but_its_late_reply_is_still_consumed_in_order()
    {
        _connection.Break(new ConnectionLossException("replaced"));
        _server.Dispose();
        await ConnectAsync(TimeSpan.FromSeconds(1));
        var slow = Send("/slow");
        var first = await ReadRequestAsync();
        await Assert.ThrowsAsync<RequestTimeoutException>(() => slow.Task.WaitAsync(Deadline));

        var next = Send("/next");
        var second = await ReadRequestAsync();
        await _server.SendAsync(Reply(first.Xid, 1, 0, (ref JuteWriter w) => { w.WriteBuffer(new byte[] { 1 }); JuteEncodingTests.WriteStat(ref w, Stat(1)); }));
        await _server.SendAsync(Reply(second.Xid, 2, 0, (ref JuteWriter w) => { w.WriteBuffer(new byte[] { 2 }); JuteEncodingTests.WriteStat(ref w, Stat(2)); }));

        Assert.Equal(new byte[] { 2 }, (await next.Task.WaitAsync(Deadline)).Data);
        Assert.False(_connection.IsBroken);
    }

    private PendingReply<DataResult> Send(string path)
    {
        var writer = JuteWriter.ForRequest(OpCode.GetData, 16);
        writer.WriteString(path);
        writer.WriteBool(false);
        var (buffer, length) = writer.Complete();
        var request = new PendingReply<DataResult>(OpCode.GetData, path, ReplyParsers.Data);
        Assert.True(_connection.TrySend(buffer, length, request));
        return request;
    }

    private async Task<(int Xid, OpCode Op)> ReadRequestAsync()
    {
        var header = new byte[4];
        await ReadExactlyAsync(header);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        await ReadExactlyAsync(body);
        return (BinaryPrimitives.ReadInt32BigEndian(body), (OpCode)BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4)));
    }

    private async Task ReadExactlyAsync(byte[] buffer)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _server.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            read += n;
        }
    }

    private delegate void Body(ref JuteWriter writer);

    private static byte[] Reply(int xid, long zxid, int err, Body body)
    {
        var writer = new JuteWriter(64);
        writer.WriteInt(xid);
        writer.WriteLong(zxid);
        writer.WriteInt(err);
        body(ref writer);
        var (buffer, length) = writer.Complete();
        var frame = buffer.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return frame;
    }

    private static Stat Stat(int version) => new(1, 2, 3, 4, version, 0, 0, 0, 1, 0, 5);

    private sealed class FakeOwner : IConnectionOwner
    {
        public ConcurrentQueue<(WatchEventType, string)> Notifications { get; } = new();

        public long LastZxid { get; private set; }

        public int Broken { get; private set; }

        public string ToClientPath(string serverPath) => serverPath;

        public void RegisterWatch(WatchRegistration registration)
        {
        }

        public void RecordCompletion(PendingReply request, int err)
        {
        }

        public void OnZxid(long zxid) => LastZxid = Math.Max(LastZxid, zxid);

        public void OnNotification(WatchEventType type, int state, string serverPath) => Notifications.Enqueue((type, serverPath));

        public void OnAuthReply(int err)
        {
        }

        public void OnSetWatchesReply(int err)
        {
        }

        public void OnBroken(Connection connection, Exception reason) => Broken++;

        public void OnAcknowledged(long sentTimestamp) => Acknowledged++;

        public int Acknowledged { get; private set; }
    }
}
