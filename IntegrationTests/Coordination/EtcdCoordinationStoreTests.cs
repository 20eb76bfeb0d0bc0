using System.Text;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Etcd;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>What the etcd backend adds to the shared contract: key layout, lease-backed sessions, progress proofs.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdCoordinationStoreTests(EtcdFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _root = "t/" + TestNames.Unique("etcd-store");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task Keys_live_under_the_root_and_an_updated_ephemeral_key_keeps_its_lease()
    {
        var store = await ConnectAsync(fixture.Endpoints);
        var created = await store.CommitAsync(new Transaction().Create("dir/eph", Utf8("v1"), ephemeral: true));
        Assert.True(created.Succeeded);
        var updated = await store.CommitAsync(new Transaction().Update("dir/eph", Utf8("v2")));

        var item = Assert.IsType<StoreItem>(Assert.Single(updated.Items));
        Assert.Equal((2L, created.Revision, store.Session.Id), (item.Version, item.CreateRevision, item.Owner));
        // etcdctl sees the same tree, at /<root>/<key>, still on the session's lease.
        Assert.Equal("v2", (await fixture.Server.EtcdCtlAsync("get", $"/{_root}/dir/eph", "--print-value-only")).Trim());
        await using var raw = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        Assert.Equal(store.Session.Id, (await raw.GetAsync($"/{_root}/dir/eph"))!.Lease);
    }

    [Fact]
    public async Task A_session_cut_off_past_its_ttl_is_suspended_then_lost_and_a_new_session_replaces_it()
    {
        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        var store = await ConnectAsync(proxy.Address);
        var first = store.Session;
        Assert.Equal(SessionState.Connected, first.State);
        Assert.Same(first, store.Session);

        proxy.Pause();
        await Eventually.UntilAsync(() => first.State == SessionState.Suspended, Deadline, () => first.State.ToString());
        Assert.True(first.ProvablyAliveFor > TimeSpan.Zero, "suspended before the lease could expire");
        await Eventually.UntilAsync(() => first.State == SessionState.Lost, Deadline, () => first.State.ToString());
        Assert.True(first.Ended.IsCompleted);
        Assert.True(first.ProvablyAliveFor <= TimeSpan.Zero);

        proxy.Resume();
        var second = store.Session;
        Assert.NotSame(first, second);
        await Eventually.UntilAsync(() => second.State == SessionState.Connected, Deadline, () => second.State.ToString());
        Assert.NotEqual(first.Id, second.Id);
        var result = await store.CommitAsync(new Transaction().Create("after", Utf8("x"), ephemeral: true));
        Assert.Equal(second.Id, result.Items[0]!.Owner);
    }

    [Fact]
    public async Task A_watch_whose_history_was_compacted_starts_with_a_resync()
    {
        var store = await ConnectAsync(fixture.Endpoints);
        var first = await store.CommitAsync(new Transaction().Create("c/a", Utf8("1")));
        await store.CommitAsync(new Transaction().Update("c/a", Utf8("2")));
        var last = await store.CommitAsync(new Transaction().Create("c/b", Utf8("3")));
        await CompactAsync(last.Revision);

        using var stop = new CancellationTokenSource(Deadline);
        await using var updates = store.WatchAsync("c", first.Revision, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        var resync = Assert.IsType<WatchResync>(updates.Current);
        Assert.True(resync.Revision >= last.Revision);
        Assert.Equal(["c/a=2", "c/b=3"], resync.Items.Select(i => $"{i.Key}={Text(i)}"));
    }

    [Fact]
    public async Task Progress_is_proven_for_a_quiet_watch_and_resyncs_when_its_revision_was_compacted()
    {
        var store = await ConnectAsync(fixture.Endpoints);
        await store.CommitAsync(new Transaction().Create("quiet/k", Utf8("q")));
        using var stop = new CancellationTokenSource(Deadline * 2);
        await using var updates = store.WatchAsync("quiet", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        var start = Assert.IsType<WatchResync>(updates.Current);

        // A write elsewhere: only a progress report can tell the watcher it is current at that revision.
        var elsewhere = await store.CommitAsync(new Transaction().Create("loud/x", Utf8("x")));
        var progress = await NextProgressAsync(store, updates);
        var changes = Assert.IsType<WatchChanges>(progress);
        Assert.Empty(changes.Changes);
        Assert.True(changes.Revision >= elsewhere.Revision, $"progress {changes.Revision} < {elsewhere.Revision}");

        // Once the watch's own revision is compacted it cannot be compared: the proof becomes a resync.
        var later = await store.CommitAsync(new Transaction().Create("loud/y", Utf8("y")));
        await CompactAsync(later.Revision);
        var resync = Assert.IsType<WatchResync>(await NextProgressAsync(store, updates));
        Assert.True(resync.Revision >= later.Revision && resync.Revision > start.Revision);
        Assert.Equal("quiet/k", Assert.Single(resync.Items).Key);
    }

    [Fact]
    public async Task A_commit_that_gets_no_answer_reports_an_unknown_outcome_and_a_retried_create_lands_once()
    {
        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        var store = await ConnectAsync(proxy.Address, requestTimeout: TimeSpan.FromSeconds(1));
        var observer = await ConnectAsync(fixture.Endpoints);

        proxy.Pause();
        await Assert.ThrowsAsync<StoreOutcomeUnknownException>(() => store.CommitAsync(new Transaction().Create("maybe", Utf8("m"))));
        proxy.Resume();

        // The first request may still land (it sat in the proxy) or never: a create carries its own compare, so
        // retrying is safe whichever happens, and the key is written exactly once.
        var retry = await store.CommitAsync(new Transaction().Create("maybe", Utf8("m")));
        Assert.True(retry.Succeeded || retry.FailedIndex == 0, $"failed at {retry.FailedIndex}");
        var item = await observer.GetAsync("maybe");
        Assert.Equal(1, item?.Version);
    }

    private static async Task<WatchUpdate> NextProgressAsync(ICoordinationStore store, IAsyncEnumerator<WatchUpdate> updates)
    {
        // The request may land before the watch is listening again: ask until an update comes.
        var next = updates.MoveNextAsync().AsTask();
        await Eventually.UntilAsync(async () =>
        {
            await store.RequestWatchProgressAsync();
            return await Task.WhenAny(next, Task.Delay(100)) == next;
        }, Deadline, () => "no progress report");
        Assert.True(await next);
        return updates.Current;
    }

    private async Task CompactAsync(long revision)
    {
        await using var raw = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        try
        {
            await raw.CompactAsync(revision, physical: true);
        }
        catch (EtcdCompactedException)
        {
            // Another test compacted further already.
        }
    }

    private async Task<EtcdCoordinationStore> ConnectAsync(string endpoints, TimeSpan? requestTimeout = null)
    {
        var store = await EtcdCoordinationStore.ConnectAsync(new EtcdStoreOptions
        {
            Endpoints = endpoints,
            Root = _root,
            SessionTtl = StoreHarness.SessionTimeout,
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
        });
        _owned.Add(store);
        return store;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(StoreItem item) => Encoding.UTF8.GetString(item.Value.Span);
}
