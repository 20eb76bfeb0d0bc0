using ControlPlane.Coordination;

namespace ControlPlane.UnitTests.Coordination;

public sealed class FailoverBudgetTests
{
    [Fact]
    public void A_clamped_zookeeper_session_is_a_warning_that_says_what_to_change()
    {
        var budget = FailoverBudget.Evaluate(Timings(StoreBackend.ZooKeeper, requested: 60_000, granted: 40_000, heartbeat: 13_000, margin: 10_000));

        Assert.Empty(budget.Errors);
        var warning = Assert.Single(budget.Warnings);
        Assert.Contains("40000 ms instead of the 60000 ms", warning, StringComparison.Ordinal);
        Assert.Contains("maxSessionTimeout", warning, StringComparison.Ordinal);
        Assert.Contains("worst-case failover", budget.Describe(), StringComparison.Ordinal);
        Assert.True(budget.WorstCaseFailover >= TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void A_margin_above_half_the_timeout_and_a_slow_heartbeat_are_refused_with_the_fix()
    {
        var budget = FailoverBudget.Evaluate(Timings(StoreBackend.ZooKeeper, requested: 6_000, granted: 6_000, heartbeat: 3_000, margin: 4_000));

        Assert.Equal(2, budget.Errors.Count);
        Assert.Contains(budget.Errors, e => e.Contains("at most a third of the session timeout", StringComparison.Ordinal));
        Assert.Contains(budget.Errors, e => e.Contains("Lower the margin or raise the session timeout", StringComparison.Ordinal));
        var error = Assert.Throws<InvalidOperationException>(budget.ThrowIfUnsafe);
        Assert.StartsWith("Unsafe timing settings", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_etcd_lease_under_two_seconds_is_refused()
    {
        var budget = FailoverBudget.Evaluate(Timings(StoreBackend.Etcd, requested: 1_000, granted: 1_000, heartbeat: 300, margin: 300));

        Assert.Contains(budget.Errors, e => e.Contains("below etcd's practical minimum", StringComparison.Ordinal));
    }

    [Fact]
    public void Sane_defaults_pass_without_remarks()
    {
        var budget = FailoverBudget.Evaluate(Timings(StoreBackend.Etcd, requested: 10_000, granted: 10_000, heartbeat: 3_333, margin: 3_333));

        Assert.Empty(budget.Errors);
        Assert.Empty(budget.Warnings);
    }

    private static FailoverTimings Timings(StoreBackend backend, int requested, int granted, int heartbeat, int margin) => new(
        backend, TimeSpan.FromMilliseconds(requested), TimeSpan.FromMilliseconds(granted), TimeSpan.FromMilliseconds(heartbeat),
        TimeSpan.FromMilliseconds(margin), TimeSpan.FromMilliseconds(200));
}
