using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>Network failures between client and member, through loopback proxies to the shared server.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdPartitionTests(EtcdFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_black_holed_connection_is_detected_by_pings_and_the_watch_resumes_through_another_endpoint()
    {
        await using var first = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var second = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var client = new EtcdClient(new EtcdClientOptions
        {
            Endpoints = first.Address + "," + second.Address,
            KeepAliveInterval = TimeSpan.FromSeconds(5),
            KeepAliveTimeout = TimeSpan.FromSeconds(2),
        });
        await using var writer = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        var prefix = TestNames.Unique("blackhole") + "/";
        await using var reader = new WatchReader(await client.WatchPrefixAsync(prefix));
        var revisions = new List<long> { (await writer.PutAsync(prefix + "0", "x")).Header.Revision };
        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);

        // Nothing passes and nothing is reset: only the HTTP/2 ping timeout can tell the stream is dead.
        first.Pause();
        for (var i = 1; i <= 5; i++)
        {
            revisions.Add((await writer.PutAsync(prefix + i, "x")).Header.Revision);
        }

        await Eventually.UntilAsync(() => reader.Events.Count == revisions.Count, Deadline, reader.Describe);
        Assert.Equal(revisions, reader.Events.Select(e => e.Kv.ModRevision));
        Assert.True(second.TotalConnections > 0, "the second endpoint was never used");
        first.Resume();
    }

    [Fact]
    public async Task A_read_sent_to_a_black_holed_endpoint_is_answered_by_the_next_one_within_the_request_timeout()
    {
        await using var dead = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var alive = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var client = new EtcdClient(new EtcdClientOptions
        {
            Endpoints = dead.Address + "," + alive.Address,
            RequestTimeout = TimeSpan.FromSeconds(4),
        });
        var key = TestNames.Unique("blackhole-read");
        await client.PutAsync(key, "v");
        dead.Pause();

        var kv = await client.GetAsync(key);

        Assert.Equal("v", kv!.Value.ToStringUtf8());
        Assert.Equal(alive.Port, client.CurrentEndpoint.Port);
        dead.Resume();
    }

    [Fact]
    public async Task Reset_connections_break_neither_watches_nor_kept_alive_leases()
    {
        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = proxy.Address });
        await using var writer = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        var prefix = TestNames.Unique("reset") + "/";
        await using var reader = new WatchReader(await client.WatchPrefixAsync(prefix));
        var lease = await client.GrantLeaseAsync(TimeSpan.FromSeconds(3));
        var expected = new List<long>();

        for (var round = 0; round < 3; round++)
        {
            proxy.CutAll();
            expected.Add((await writer.PutAsync(prefix + round, "x")).Header.Revision);
            await Eventually.UntilAsync(() => reader.Events.Count == expected.Count, Deadline, reader.Describe);
        }

        Assert.Equal(expected, reader.Events.Select(e => e.Kv.ModRevision));
        var cutAt = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(() => lease.Deadline > cutAt + lease.Ttl || lease.State != EtcdLeaseState.Alive, Deadline,
            () => $"lease {lease.State}, deadline {lease.Deadline:O}");
        Assert.Equal(EtcdLeaseState.Alive, lease.State);
        // Unary calls recover on the same endpoint once the proxy accepts again.
        Assert.NotNull(await client.GetAsync(prefix + "0"));
    }
}
