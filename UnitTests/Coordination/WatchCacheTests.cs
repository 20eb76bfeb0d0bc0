using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Coordination;

public sealed class WatchCacheTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly InMemoryStoreServer _server = new();
    private InMemoryStore _writer = null!;
    private InMemoryStore _reader = null!;

    public Task InitializeAsync()
    {
        _writer = _server.Connect();
        _reader = _server.Connect();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _reader.DisposeAsync();
    }

    [Fact]
    public async Task Starts_from_a_full_listing_of_the_subtree_only()
    {
        await PutAsync("jobs/00/a", "1");
        await PutAsync("jobs/01/b", "2");
        await PutAsync("workers/w1", "3");
        await using var cache = new WatchCache(_reader, "jobs");

        await cache.StartAsync();

        Assert.Equal(["jobs/00/a", "jobs/01/b"], cache.Items.Keys);
        Assert.Equal(_server.Revision, cache.Revision);
    }

    [Fact]
    public async Task Applies_every_change_in_order_and_reaches_the_writers_revision()
    {
        await using var cache = new WatchCache(_reader, "jobs");
        await cache.StartAsync();

        long last = 0;
        for (var i = 0; i < 50; i++)
        {
            last = (await _writer.CommitAsync(new Transaction().Create($"jobs/00/j{i:D2}", "{}"u8.ToArray()))).Revision;
        }

        last = (await _writer.CommitAsync(new Transaction().Update("jobs/00/j07", "\"changed\""u8.ToArray()).Delete("jobs/00/j08"))).Revision;
        await cache.WaitForRevisionAsync(last).WaitAsync(Deadline);

        Assert.Equal(49, cache.Items.Count);
        Assert.Equal("\"changed\"", System.Text.Encoding.UTF8.GetString(cache.Items["jobs/00/j07"].Value.Span));
        Assert.Equal(2, cache.Items["jobs/00/j07"].Version);
        Assert.False(cache.Items.ContainsKey("jobs/00/j08"));
    }

    [Fact]
    public async Task The_change_log_tells_a_resync_as_the_puts_and_deletes_that_make_the_difference()
    {
        await PutAsync("jobs/00/keep", "1");
        await PutAsync("jobs/00/same", "1");
        await PutAsync("jobs/00/gone", "1");
        await using var cache = new WatchCache(_reader, "jobs");
        cache.EnableChangeLog();
        await cache.StartAsync();
        var initial = cache.TakeChanges();
        Assert.Equal(["jobs/00/gone", "jobs/00/keep", "jobs/00/same"], initial.Changes.Select(c => c.Key));
        Assert.All(initial.Changes, c => Assert.Equal(ChangeKind.Put, c.Kind));

        _server.BreakWatches();
        await _writer.CommitAsync(new Transaction().Delete("jobs/00/gone").Update("jobs/00/keep", "2"u8.ToArray()).Create("jobs/00/new", "3"u8.ToArray()));
        _server.Compact();
        var last = (await _writer.CommitAsync(new Transaction().Create("jobs/00/zlast", "4"u8.ToArray()))).Revision;
        await cache.WaitForRevisionAsync(last).WaitAsync(Deadline);

        var (changes, items, revision) = cache.TakeChanges();
        Assert.Equal(
            ["Delete jobs/00/gone", "Put jobs/00/keep", "Put jobs/00/new", "Put jobs/00/zlast"],
            changes.Select(c => $"{c.Kind} {c.Key}").Distinct().Order(StringComparer.Ordinal));
        Assert.DoesNotContain(changes, c => c.Key == "jobs/00/same"); // unchanged across the resync: not repeated
        Assert.Equal(["jobs/00/keep", "jobs/00/new", "jobs/00/same", "jobs/00/zlast"], items.Keys);
        Assert.True(revision >= last);
        Assert.Empty(cache.TakeChanges().Changes);
    }

    [Fact]
    public async Task TakeChanges_without_a_change_log_is_refused()
    {
        await using var cache = new WatchCache(_reader, "jobs");
        Assert.Throws<InvalidOperationException>(() => cache.TakeChanges());
    }

    [Fact]
    public async Task WaitForRevision_of_a_write_outside_the_prefix_returns_through_a_progress_report()
    {
        await using var cache = new WatchCache(_reader, "jobs");
        await cache.StartAsync();

        var elsewhere = await _writer.CommitAsync(new Transaction().Create("workers/w9", "{}"u8.ToArray()));

        await cache.WaitForRevisionAsync(elsewhere.Revision).WaitAsync(Deadline);
        Assert.True(cache.Revision >= elsewhere.Revision);
    }

    [Fact]
    public async Task A_broken_watch_is_followed_again_and_a_compacted_gap_becomes_a_resync_without_losing_state()
    {
        await PutAsync("jobs/00/keep", "1");
        await PutAsync("jobs/00/gone", "1");
        await using var cache = new WatchCache(_reader, "jobs");
        await cache.StartAsync();
        var resyncsBefore = cache.Resyncs;

        // While the cache is cut off: a delete, an update and a create, then history is compacted away.
        _server.BreakWatches();
        await _writer.CommitAsync(new Transaction().Delete("jobs/00/gone").Update("jobs/00/keep", "2"u8.ToArray()).Create("jobs/00/new", "3"u8.ToArray()));
        _server.Compact();
        var last = (await _writer.CommitAsync(new Transaction().Create("jobs/00/after", "4"u8.ToArray()))).Revision;

        await cache.WaitForRevisionAsync(last).WaitAsync(Deadline);

        Assert.Equal(["jobs/00/after", "jobs/00/keep", "jobs/00/new"], cache.Items.Keys);
        Assert.Equal(2, cache.Items["jobs/00/keep"].Version);
        Assert.True(cache.Resyncs > resyncsBefore, "the compacted gap must be bridged by a resync");
    }

    [Fact]
    public void A_repeated_put_or_a_stale_delete_is_not_applied_twice()
    {
        var held = new StoreItem("jobs/a", "x"u8.ToArray(), CreateRevision: 5, ModRevision: 9, Version: 3, Owner: 0);

        Assert.False(WatchCache.IsNewer(new StoreChange(ChangeKind.Put, "jobs/a", held with { ModRevision = 9 }, 9), held, 12));
        Assert.True(WatchCache.IsNewer(new StoreChange(ChangeKind.Put, "jobs/a", held with { ModRevision = 13 }, 13), held, 12));
        // A delete from before the cache's revision, or from before the key's re-creation, is old news.
        Assert.False(WatchCache.IsNewer(new StoreChange(ChangeKind.Delete, "jobs/a", null, 11), held, 12));
        Assert.False(WatchCache.IsNewer(new StoreChange(ChangeKind.Delete, "jobs/a", null, 14), held with { ModRevision = 15 }, 12));
        Assert.True(WatchCache.IsNewer(new StoreChange(ChangeKind.Delete, "jobs/a", null, 14), held, 12));
    }

    private Task PutAsync(string key, string value) =>
        _writer.CommitAsync(new Transaction().Create(key, System.Text.Encoding.UTF8.GetBytes(value)));
}
