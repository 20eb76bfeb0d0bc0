using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdLeaseTests(EtcdFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly string _p = TestNames.Unique("lease") + "/";
    private EtcdClient _client = null!;

    public Task InitializeAsync()
    {
        _client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task A_kept_alive_lease_outlives_its_ttl_and_keeps_its_keys()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await _client.PutAsync(EtcdOp.Put(_p + "owned", "x", lease.Id));
        var grantedUntil = lease.Deadline;

        // Past the original TTL: only renewals can have moved the deadline.
        await Eventually.UntilAsync(() => lease.Deadline > grantedUntil + TimeSpan.FromSeconds(2), Deadline,
            () => $"deadline {lease.Deadline:O}, state {lease.State}");

        var ttl = await _client.LeaseTimeToLiveAsync(lease.Id, keys: true);
        Assert.Equal(EtcdLeaseState.Alive, lease.State);
        Assert.Equal(2, ttl.GrantedTTL);
        Assert.True(ttl.TTL > 0);
        Assert.Equal(_p + "owned", Assert.Single(ttl.Keys).ToStringUtf8());
        Assert.NotNull(await _client.GetAsync(_p + "owned"));
        await _client.RevokeLeaseAsync(lease);
    }

    [Fact]
    public async Task Revoking_deletes_the_keys_and_ends_the_lease_without_reporting_a_loss()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(10));
        await _client.PutAsync(EtcdOp.Put(_p + "gone", "x", lease.Id));

        await _client.RevokeLeaseAsync(lease);

        Assert.Null(await _client.GetAsync(_p + "gone"));
        Assert.Equal(EtcdLeaseState.Revoked, lease.State);
        Assert.False(lease.Lost.IsCompleted);
        Assert.Equal(-1, (await _client.LeaseTimeToLiveAsync(lease.Id)).TTL);
    }

    [Fact]
    public async Task A_lease_revoked_behind_the_clients_back_is_reported_lost_when_the_keepalive_answers_ttl_zero()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(3));
        await using var other = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });

        await other.RevokeLeaseAsync(lease.Id);

        var reason = await lease.Lost.WaitAsync(Deadline);
        Assert.Equal(EtcdLeaseState.Lost, lease.State);
        Assert.True(lease.LostToken.IsCancellationRequested);
        Assert.Contains("expired", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_without_keepalive_expires_and_its_keys_disappear_for_watchers()
    {
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(2), keepAlive: false);
        await _client.PutAsync(EtcdOp.Put(_p + "ephemeral", "x", lease.Id));
        await using var reader = new WatchReader(await _client.WatchAsync(_p + "ephemeral"));

        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);

        Assert.Equal(ControlPlane.Etcd.Rpc.Event.Types.EventType.Delete, reader.Events[0].Type);
    }
}
