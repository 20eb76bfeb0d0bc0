using System.Threading.Channels;
using ControlPlane.Coordination.ZooKeeper;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;

namespace ControlPlane.UnitTests.Coordination.ZooKeeper;

/// <summary>The subtree watch's backlog on a fake event queue (the client's bounded channel, written as the client
/// writes it): notifications are taken off as they come, each changed path is kept once, and what cannot be kept
/// becomes a resync or an end.</summary>
public sealed class NotificationBacklogTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Channel<WatchedEvent> _events = Channel.CreateBounded<WatchedEvent>(
        new BoundedChannelOptions(16) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    [Fact]
    public async Task A_burst_many_times_the_queue_is_taken_off_it_and_kept_as_one_entry_per_path_in_first_notification_order()
    {
        var backlog = Start(limit: 10_000);

        // 20,000 notifications of 1,000 paths through a queue of 16, while nobody takes anything from the backlog.
        for (var i = 0; i < 20_000; i++)
        {
            await _events.Writer.WriteAsync(Changed($"/r/jobs/j{i % 1000:D4}")).AsTask().WaitAsync(Deadline);
        }

        await Eventually.UntilAsync(() => _events.Reader.Count == 0 && backlog.Count == 1000, Deadline, () => $"{backlog.Count} kept");
        Assert.Null(backlog.ResyncReason);
        Assert.Null(backlog.Ended);
        var taken = backlog.Take(600).Concat(backlog.Take(600)).ToList();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"/r/jobs/j{i:D4}"), taken);
    }

    [Fact]
    public async Task A_path_notified_again_after_it_was_taken_is_kept_again_at_the_end()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"), Changed("/r/b"), Changed("/r/a", WatchEventType.NodeDeleted), Changed("/r/c"));
        await Eventually.UntilAsync(() => backlog.Count == 3, Deadline);

        Assert.Equal(["/r/a"], backlog.Take(1));
        await WriteAsync(Changed("/r/a", WatchEventType.NodeCreated), Changed("/r/b"));
        await Eventually.UntilAsync(() => backlog.Count == 3, Deadline);

        Assert.Equal(["/r/b", "/r/c", "/r/a"], backlog.Take(10));
    }

    [Fact]
    public async Task Paths_outside_the_subtree_and_child_list_events_are_not_kept()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"), Changed("/rx/a"), Changed("/r/b", WatchEventType.NodeChildrenChanged), Changed("/r/c"));
        await Eventually.UntilAsync(() => _events.Reader.Count == 0 && backlog.Count == 2, Deadline);

        Assert.Equal(["/r/a", "/r/c"], backlog.Take(10));
    }

    [Fact]
    public async Task More_distinct_paths_than_the_limit_ask_for_a_resync_and_the_resync_keeps_only_what_comes_after_it_starts()
    {
        var backlog = Start(limit: 100);
        for (var i = 0; i < 101; i++)
        {
            await WriteAsync(Changed($"/r/k{i}"));
        }

        await Eventually.UntilAsync(() => backlog.ResyncReason is not null, Deadline);
        Assert.Contains("more than 100 changed keys", backlog.ResyncReason, StringComparison.Ordinal);
        Assert.Equal(0, backlog.Count);
        // Until the resync starts, notifications are covered by it: not kept.
        await WriteAsync(Changed("/r/before"));
        await Eventually.UntilAsync(() => _events.Reader.Count == 0, Deadline);
        Assert.Equal(0, backlog.Count);

        backlog.BeginResync();
        await WriteAsync(Changed("/r/during"));

        await Eventually.UntilAsync(() => backlog.Count == 1, Deadline);
        Assert.Null(backlog.ResyncReason);
        Assert.Equal(["/r/during"], backlog.Take(10));
    }

    [Fact]
    public async Task A_reconnect_asks_for_a_resync_and_drops_what_it_covers()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"), new WatchedEvent(WatchEventType.None, "/r"));

        await Eventually.UntilAsync(() => backlog.ResyncReason is not null, Deadline);

        Assert.Contains("reconnected", backlog.ResyncReason, StringComparison.Ordinal);
        Assert.Equal(0, backlog.Count);
        Assert.Null(backlog.Ended);
    }

    [Fact]
    public async Task The_server_removing_the_watch_ends_it()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"), new WatchedEvent(WatchEventType.PersistentWatchRemoved, "/r"));

        await Eventually.UntilAsync(() => backlog.Ended is not null, Deadline);

        Assert.Equal(new BacklogEnd(null, "the server removed the watch"), backlog.Ended);
        Assert.Equal(0, backlog.Count);
    }

    [Fact]
    public async Task An_overflow_ends_it_with_the_clients_error_and_then_nothing_can_be_marked()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"));
        _events.Writer.Complete(new WatchOverflowException("/r"));

        await backlog.Pump.WaitAsync(Deadline);

        Assert.IsType<WatchOverflowException>(backlog.Ended?.Error);
        Assert.Null(backlog.Mark());
    }

    [Fact]
    public async Task The_events_completing_ends_it_without_an_error()
    {
        var backlog = Start();
        _events.Writer.Complete();

        await backlog.Pump.WaitAsync(Deadline);

        Assert.Equal(new BacklogEnd(null, "the watch ended"), backlog.Ended);
    }

    [Fact]
    public async Task A_mark_covers_every_notification_queued_before_it_and_none_after()
    {
        var backlog = Start();
        await WriteAsync(Changed("/r/a"), Changed("/r/b"));

        var mark = Assert.IsType<long>(backlog.Mark());
        await WriteAsync(Changed("/r/c"), Changed("/r/a"));
        await Eventually.UntilAsync(() => backlog.Count == 3, Deadline);

        Assert.Equal(["/r/a"], backlog.Take(1, mark));
        Assert.Equal(["/r/b"], backlog.Take(10, mark));
        Assert.Empty(backlog.Take(10, mark));
        // The second /r/a came while the first was still kept: one read after both covers both.
        Assert.Equal(["/r/c"], backlog.Take(10));
    }

    private NotificationBacklog Start(int limit = 1000) =>
        new(_events.Reader, path => path == "/r" || path.StartsWith("/r/", StringComparison.Ordinal), limit);

    private static WatchedEvent Changed(string path, WatchEventType type = WatchEventType.NodeDataChanged) => new(type, path);

    private async Task WriteAsync(params WatchedEvent[] events)
    {
        foreach (var e in events)
        {
            await _events.Writer.WriteAsync(e).AsTask().WaitAsync(Deadline);
        }
    }
}
