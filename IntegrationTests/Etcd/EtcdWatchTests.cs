using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdWatchTests(EtcdFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly string _p = TestNames.Unique("watch") + "/";
    private EtcdClient _client = null!;

    public Task InitializeAsync()
    {
        _client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task WatchAsync_returns_only_after_the_server_acknowledged_so_an_immediate_write_is_seen()
    {
        await using var reader = new WatchReader(await _client.WatchAsync(_p + "k"));

        var put = await _client.PutAsync(_p + "k", "v");

        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);
        var e = reader.Events[0];
        Assert.Equal(Event.Types.EventType.Put, e.Type);
        Assert.Equal(put.Header.Revision, e.Kv.ModRevision);
        Assert.True(reader.Watch.StartRevision <= put.Header.Revision);
    }

    [Fact]
    public async Task A_prefix_watch_from_a_past_revision_replays_history_with_previous_values_in_order()
    {
        var first = await _client.PutAsync(_p + "p/a", "1");
        await _client.PutAsync(_p + "p/a", "2");
        await _client.DeleteRangeAsync(EtcdOp.Delete(_p + "p/a"));
        await _client.PutAsync(_p + "q", "outside the prefix");
        await _client.PutAsync(_p + "p/b", "3");

        await using var reader = new WatchReader(await _client.WatchPrefixAsync(_p + "p/",
            new EtcdWatchOptions { StartRevision = first.Header.Revision, PrevKv = true }));

        await Eventually.UntilAsync(() => reader.Events.Count == 4, Deadline, reader.Describe);
        var events = reader.Events;
        Assert.Equal(["1", "2", "", "3"], events.Select(e => e.Kv.Value.ToStringUtf8()));
        Assert.Equal(Event.Types.EventType.Delete, events[2].Type);
        Assert.Equal("1", events[1].PrevKv.Value.ToStringUtf8());
        Assert.Equal("2", events[2].PrevKv.Value.ToStringUtf8());
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Kv.ModRevision < p.Second.Kv.ModRevision));
    }

    [Fact]
    public async Task Filters_drop_the_event_types_asked_for()
    {
        await using var reader = new WatchReader(await _client.WatchAsync(_p + "f", new EtcdWatchOptions { NoPut = true }));

        await _client.PutAsync(_p + "f", "1");
        var deleted = await _client.DeleteRangeAsync(EtcdOp.Delete(_p + "f"));

        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);
        Assert.Equal(deleted.Header.Revision, reader.Events[0].Kv.ModRevision);
    }

    [Fact]
    public async Task A_progress_request_gives_every_watch_an_empty_batch_at_the_current_revision()
    {
        await using var a = new WatchReader(await _client.WatchAsync(_p + "quiet-a"));
        await using var b = new WatchReader(await _client.WatchAsync(_p + "quiet-b"));
        var current = (await _client.PutAsync(_p + "elsewhere", "x")).Header.Revision;

        await _client.RequestWatchProgressAsync();

        await Eventually.UntilAsync(() => a.Batches.Any(x => x.IsProgressNotification) && b.Batches.Any(x => x.IsProgressNotification),
            Deadline, () => $"a: {a.Describe()}; b: {b.Describe()}");
        Assert.True(a.Batches.First(x => x.IsProgressNotification).Revision >= current);
        Assert.True(a.Watch.NextRevision > current);
    }

    [Fact]
    public async Task Many_watches_share_one_stream_and_each_sees_only_its_own_key()
    {
        const int count = 50;
        var readers = new List<WatchReader>();
        for (var i = 0; i < count; i++)
        {
            readers.Add(new WatchReader(await _client.WatchAsync(_p + "many/" + i)));
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                await _client.PutAsync(_p + "many/" + i, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            await Eventually.UntilAsync(() => readers.All(r => r.Events.Count == 1), Deadline,
                () => string.Join("; ", readers.Select((r, i) => $"{i}: {r.Events.Count}")));
            Assert.All(readers.Select((r, i) => (r, i)), x => Assert.Equal(x.i.ToString(System.Globalization.CultureInfo.InvariantCulture), x.r.Events[0].Kv.Value.ToStringUtf8()));
        }
        finally
        {
            foreach (var r in readers)
            {
                await r.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_disposed_watch_stops_and_the_others_on_the_stream_continue()
    {
        var stopped = new WatchReader(await _client.WatchAsync(_p + "s"));
        await using var kept = new WatchReader(await _client.WatchAsync(_p + "s"));

        await stopped.DisposeAsync();
        await _client.PutAsync(_p + "s", "after");

        await Eventually.UntilAsync(() => kept.Events.Count == 1, Deadline, kept.Describe);
        Assert.Empty(stopped.Events);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_ends_with_a_compaction_exception_not_silence()
    {
        var old = await _client.PutAsync(_p + "c", "1");
        var latest = await _client.PutAsync(_p + "c", "2");
        await _client.CompactAsync(latest.Header.Revision, physical: true);

        await using var reader = new WatchReader(await _client.WatchAsync(_p + "c", new EtcdWatchOptions { StartRevision = old.Header.Revision }));

        await Eventually.UntilAsync(() => reader.Error is not null, Deadline, reader.Describe);
        var compacted = Assert.IsType<EtcdCompactedException>(reader.Error);
        Assert.Equal(latest.Header.Revision, compacted.CompactRevision);
        Assert.Empty(reader.Events);
    }

    [Fact]
    public async Task Disposing_the_client_ends_watches_with_object_disposed_instead_of_hanging()
    {
        var client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        var reader = new WatchReader(await client.WatchAsync(_p + "d"));

        await client.DisposeAsync();

        await Eventually.UntilAsync(() => reader.Error is not null, Deadline, reader.Describe);
        Assert.IsType<ObjectDisposedException>(reader.Error);
        await reader.DisposeAsync();
    }
}
