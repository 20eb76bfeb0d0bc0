using System.Diagnostics.Metrics;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>Auth on a cluster of our own (enabling auth on the shared fixture would break every other test).</summary>
public sealed class EtcdAuthTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private const string Root = "--user=root:rootpw";

    private static async Task<EtcdCluster> StartWithAuthAsync()
    {
        // Simple tokens with a 2 s TTL, so expiry is quick when a test needs it.
        var cluster = await EtcdCluster.StartAsync(1, new EtcdServerOptions { ExtraArguments = ["--auth-token=simple", "--auth-token-ttl=2"] });
        await cluster.EtcdCtlAsync("user", "add", "root:rootpw");
        await cluster.EtcdCtlAsync("auth", "enable");
        return cluster;
    }

    [Fact]
    public async Task Calls_authenticate_on_first_use_and_wrong_credentials_fail_with_etcds_message()
    {
        await using var cluster = await StartWithAuthAsync();
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints, Username = "root", Password = "rootpw" });
        await using var anonymous = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        await using var wrong = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints, Username = "root", Password = "nope" });

        await client.PutAsync("a", "1");

        Assert.Equal("1", (await client.GetAsync("a"))!.Value.ToStringUtf8());
        var denied = await Assert.ThrowsAsync<EtcdException>(() => anonymous.GetAsync("a"));
        Assert.Contains("user name is empty", denied.Message, StringComparison.Ordinal);
        var failed = await Assert.ThrowsAsync<EtcdException>(() => wrong.GetAsync("a"));
        Assert.Contains("authentication failed", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalidated_tokens_are_renewed_and_watches_and_keepalives_keep_working()
    {
        await using var cluster = await StartWithAuthAsync();
        using var reauthentications = new ReauthenticationCounter();
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints, Username = "root", Password = "rootpw" });
        var prefix = TestNames.Unique("auth") + "/";
        await using var before = new WatchReader(await client.WatchPrefixAsync(prefix));
        var lease = await client.GrantLeaseAsync(TimeSpan.FromSeconds(3));

        // Disabling and re-enabling auth drops every simple token on the server: our token is now invalid,
        // while the open watch and keepalive streams stay up.
        await cluster.EtcdCtlAsync(Root, "auth", "disable");
        await cluster.EtcdCtlAsync("auth", "enable");

        await client.PutAsync(prefix + "1", "after-invalidation");
        Assert.True(reauthentications.Count >= 1, "the rejected token was not renewed");

        // A new watch on the stream opened with the old token is refused: the client renews and re-creates all.
        await using var after = new WatchReader(await client.WatchPrefixAsync(prefix));
        await client.PutAsync(prefix + "2", "x");

        await Eventually.UntilAsync(() => before.Events.Count == 2 && after.Events.Count == 1, Deadline,
            () => $"before: {before.Describe()}; after: {after.Describe()}");
        Assert.Equal(["1", "2"], before.Events.Select(e => e.Kv.Key.ToStringUtf8()[^1..]));

        var renewedFrom = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(() => lease.Deadline > renewedFrom + lease.Ttl || lease.State != EtcdLeaseState.Alive, Deadline,
            () => $"lease {lease.State}, deadline {lease.Deadline:O}");
        Assert.Equal(EtcdLeaseState.Alive, lease.State);
    }

    [Fact]
    public async Task A_token_that_expired_while_idle_is_renewed_transparently()
    {
        await using var cluster = await StartWithAuthAsync();
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints, Username = "root", Password = "rootpw" });
        await client.PutAsync("k", "1");
        using var reauthentications = new ReauthenticationCounter();
        await using var probe = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints, Username = "root", Password = "rootpw" });

        // Stay idle past --auth-token-ttl=2 (simple tokens expire only while unused). The probe, with a token
        // of its own, keeps the server busy meanwhile; the reauthentication count below proves the expiry.
        var started = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(async () =>
        {
            await probe.PutAsync("tick", "x");
            return DateTimeOffset.UtcNow - started > TimeSpan.FromSeconds(3.5);
        }, Deadline);

        await client.PutAsync("k", "2");

        Assert.Equal("2", (await client.GetAsync("k"))!.Value.ToStringUtf8());
        Assert.True(reauthentications.Count >= 1, "the expired token was not renewed (did it expire?)");
    }

    /// <summary>Counts the client's re-authentications through its published metric.</summary>
    private sealed class ReauthenticationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public ReauthenticationCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "ControlPlane.Etcd" && instrument.Name == "controlplane.etcd.reauthentications")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
