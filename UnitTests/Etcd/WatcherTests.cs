using ControlPlane.Etcd;
using ControlPlane.Etcd.Internal;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.UnitTests.Etcd;

public class WatcherTests
{
    private static Event Put(long revision) => new()
    {
        Type = Event.Types.EventType.Put,
        Kv = new KeyValue { Key = ByteString.CopyFromUtf8("k"), ModRevision = revision },
    };

    private static Watcher NewWatcher(long startRevision = 0) =>
        new(ByteString.CopyFromUtf8("k"), new EtcdWatchOptions { StartRevision = startRevision }, capacity: 8);

    [Fact]
    public void A_watch_from_now_resumes_after_the_acknowledged_revision()
    {
        var watcher = NewWatcher();

        watcher.OnCreated(watchId: 3, headerRevision: 41);

        Assert.Equal(42, watcher.NextRevision);
        Assert.Equal(42, watcher.BuildCreate().CreateRequest.StartRevision);
    }

    [Fact]
    public void A_watch_with_a_start_revision_keeps_it_at_acknowledgement()
    {
        var watcher = NewWatcher(startRevision: 10);

        watcher.OnCreated(watchId: 0, headerRevision: 41);

        Assert.Equal(10, watcher.BuildCreate().CreateRequest.StartRevision);
    }

    [Fact]
    public void Delivered_events_move_the_resume_point_past_the_last_revision_never_to_now()
    {
        var watcher = NewWatcher(startRevision: 5);
        watcher.OnCreated(0, 100);

        var delivered = watcher.Accept([Put(5), Put(6), Put(6)], fragment: false);
        watcher.OnStreamLost();

        Assert.Equal(3, delivered!.Count);
        Assert.Equal(7, watcher.BuildCreate().CreateRequest.StartRevision);
        Assert.Equal(-1, watcher.WatchId);
    }

    [Fact]
    public void Events_below_the_resume_point_are_dropped_so_a_resume_never_duplicates()
    {
        var watcher = NewWatcher(startRevision: 5);
        watcher.Accept([Put(5), Put(6)], fragment: false);

        var again = watcher.Accept([Put(6), Put(7)], fragment: false);

        Assert.Equal([7L], again!.Select(e => e.Kv.ModRevision));
        Assert.Equal(8, watcher.NextRevision);
    }

    [Fact]
    public void Fragments_are_held_back_and_delivered_joined()
    {
        var watcher = NewWatcher(startRevision: 1);

        Assert.Null(watcher.Accept([Put(3)], fragment: true));
        Assert.Null(watcher.Accept([Put(3)], fragment: true));
        var joined = watcher.Accept([Put(3)], fragment: false);

        Assert.Equal(3, joined!.Count);
        Assert.Equal(4, watcher.NextRevision);
    }

    [Fact]
    public void A_stream_lost_mid_fragment_discards_the_partial_revision_and_resumes_at_it()
    {
        var watcher = NewWatcher(startRevision: 3);
        watcher.Accept([Put(3)], fragment: true);

        watcher.OnStreamLost();

        Assert.Null(watcher.Fragments);
        Assert.Equal(3, watcher.BuildCreate().CreateRequest.StartRevision);
    }

    [Fact]
    public void Progress_moves_the_resume_point_forward_but_never_back()
    {
        var watcher = NewWatcher(startRevision: 50);

        watcher.OnProgress(60);
        Assert.Equal(61, watcher.NextRevision);
        watcher.OnProgress(40);
        Assert.Equal(61, watcher.NextRevision);
    }

    [Fact]
    public void Create_requests_ask_for_fragments_and_carry_filters_and_prev_kv()
    {
        var watcher = new Watcher(ByteString.CopyFromUtf8("p/"),
            new EtcdWatchOptions { RangeEnd = EtcdKeys.PrefixEnd("p/"), PrevKv = true, NoDelete = true }, capacity: 1);

        var create = watcher.BuildCreate().CreateRequest;

        Assert.True(create.Fragment);
        Assert.True(create.PrevKv);
        Assert.Equal("p0", create.RangeEnd.ToStringUtf8());
        Assert.Equal([WatchCreateRequest.Types.FilterType.Nodelete], create.Filters);
    }
}
