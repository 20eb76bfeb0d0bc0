using ControlPlane.Contracts.Directors;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>The shadow director's comparison of its decisions with its leader's placements (docs/cells.md).</summary>
public sealed class ShadowComparisonTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 22, 0, 0, TimeSpan.Zero);
    private readonly ShadowComparison _c = new(maxOutstanding: 3);

    [Fact]
    public void A_decision_agrees_or_differs_with_the_leaders_placement_of_that_attempt_and_each_attempt_counts_once()
    {
        _c.Decided("j1", 1, "a");
        _c.Decided("j2", 1, "a");

        Assert.Equal(ShadowOutcome.Agree, _c.Observed("j1", 1, "a", NoLateDecision, T0));
        Assert.Equal(ShadowOutcome.Differ, _c.Observed("j2", 1, "b", NoLateDecision, T0));
        Assert.Null(_c.Observed("j2", 1, "b", NoLateDecision, T0)); // the same attempt changing again (Running)

        var report = Report();
        Assert.Equal((1, 1, 0, 0, 0), (report.Agree, report.Differ, report.Unplanned, report.Late, report.Outstanding));
        Assert.Equal(new ShadowDifference("j2", 1, "b", "a", T0), Assert.Single(report.Differences));
    }

    [Fact]
    public void A_later_decision_replaces_an_earlier_one_and_one_for_another_attempt_is_not_used()
    {
        _c.Decided("j1", 1, "a");
        _c.Decided("j1", 1, "b");
        Assert.Equal(ShadowOutcome.Agree, _c.Observed("j1", 1, "b", NoLateDecision, T0));

        _c.Decided("j1", 1, "a"); // a stale decision for attempt 1; the leader places attempt 2
        Assert.Equal(ShadowOutcome.Unplanned, _c.Observed("j1", 2, "a", NoLateDecision, T0));
    }

    [Fact]
    public void Without_a_decision_the_shadow_decides_late_and_unplanned_counts_only_what_it_could_not_place()
    {
        Assert.Equal(ShadowOutcome.Differ, _c.Observed("j1", 1, "a", () => "b", T0));
        Assert.Equal(ShadowOutcome.Agree, _c.Observed("j2", 1, "a", () => "a", T0));
        Assert.Equal(ShadowOutcome.Unplanned, _c.Observed("j3", 1, "a", NoLateDecision, T0));

        var report = Report();
        Assert.Equal((1, 1, 1, 2), (report.Agree, report.Differ, report.Unplanned, report.Late));
    }

    [Fact]
    public void Jobs_out_when_the_shadow_started_are_not_compared_and_a_retry_is()
    {
        _c.AlreadyPlaced("j1", 1);
        Assert.Null(_c.Observed("j1", 1, "a", () => "a", T0));
        Assert.Equal(ShadowOutcome.Agree, _c.Observed("j1", 2, "a", () => "a", T0));
    }

    [Fact]
    public void State_is_bounded_decisions_past_the_cap_are_dropped_and_only_the_last_100_differences_are_kept()
    {
        foreach (var job in new[] { "j1", "j2", "j3", "j4" })
        {
            _c.Decided(job, 1, "a");
        }

        Assert.Equal(3, _c.Outstanding);
        Assert.Equal(ShadowOutcome.Unplanned, _c.Observed("j4", 1, "a", NoLateDecision, T0));
        _c.Forget("j1");
        Assert.Equal(2, _c.Outstanding);

        var many = new ShadowComparison();
        for (var i = 0; i < 150; i++)
        {
            many.Observed($"x{i}", 1, "a", () => "b", T0);
        }

        var report = many.Snapshot(new ShadowReport());
        Assert.Equal(150, report.Differ);
        Assert.Equal(ShadowComparison.MaxDifferences, report.Differences.Count);
        Assert.Equal("x50", report.Differences[0].JobId);
        Assert.Equal("x149", report.Differences[^1].JobId);
    }

    [Fact]
    public void Changes_move_only_with_a_comparison()
    {
        var before = _c.Changes;
        _c.Decided("j1", 1, "a");
        Assert.Equal(before, _c.Changes);
        _c.Observed("j1", 1, "a", NoLateDecision, T0);
        Assert.True(_c.Changes > before);
    }

    private static string? NoLateDecision() => null;

    private ShadowReport Report() => _c.Snapshot(new ShadowReport { DirectorId = "s1", Cell = "default" });
}
