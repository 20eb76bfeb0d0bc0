using ControlPlane.Director.Events;

namespace ControlPlane.UnitTests.Director.Events;

/// <summary>The ring a resume is served from: what it covers and what it returns.</summary>
public sealed class EventHistoryTests
{
    [Fact]
    public void A_resume_from_at_or_above_the_floor_gets_every_later_event_in_order()
    {
        var history = new EventHistory(10);
        history.Reset(100);
        foreach (var revision in new long[] { 101, 102, 102, 105 })
        {
            history.Append(At(revision));
        }

        Assert.True(history.Covers(100));
        Assert.False(history.Covers(99));
        Assert.Equal([101, 102, 102, 105], history.After(100).Select(e => e.Revision));
        Assert.Equal([105], history.After(102).Select(e => e.Revision));
        Assert.Empty(history.After(105));
        Assert.Empty(history.After(1_000));
    }

    [Fact]
    public void Pushing_out_the_oldest_raises_the_floor_to_its_revision_so_a_revision_cut_in_half_is_not_covered()
    {
        var history = new EventHistory(3);
        history.Reset(10);
        foreach (var revision in new long[] { 11, 12, 12, 13 })
        {
            history.Append(At(revision));
        }

        // 11 went out: a resume from 10 would miss it, from 11 it misses nothing.
        Assert.Equal(11, history.Floor);
        Assert.False(history.Covers(10));
        Assert.Equal([12, 12, 13], history.After(11).Select(e => e.Revision));

        history.Append(At(14));
        // One of revision 12's two events went out: 12 is the floor, so only a resume from 12 or later is served.
        Assert.Equal(12, history.Floor);
        Assert.False(history.Covers(11));
        Assert.Equal([13, 14], history.After(12).Select(e => e.Revision));
    }

    [Fact]
    public void Advancing_without_events_moves_the_head_and_a_reset_forgets_everything()
    {
        var history = new EventHistory(4);
        history.Reset(5);
        history.Append(At(6));
        history.Advance(9);
        Assert.Equal(9, history.Head);
        Assert.Throws<ArgumentException>(() => history.Append(At(8)));

        history.Reset(20);
        Assert.Equal(0, history.Count);
        Assert.False(history.Covers(9));
        Assert.True(history.Covers(20));
    }

    [Fact]
    public void A_history_of_size_zero_covers_only_what_comes_after_its_head()
    {
        var history = new EventHistory(0);
        history.Reset(1);
        history.Append(At(2));
        Assert.False(history.Covers(1));
        Assert.True(history.Covers(2));
        Assert.Empty(history.After(2));
    }

    private static StreamEvent At(long revision) => StreamEvent.Create(EventTypes.Job, revision, "{}"u8);
}
