using ControlPlane.Coordination;
using ControlPlane.Director.Hosting;

namespace ControlPlane.UnitTests.Director;

/// <summary><c>/healthz</c>'s judgement (<see cref="DirectorHealth.Evaluate"/>): a stalled loop of the director fails it
/// naming the loop; an unreachable store, a loading term or a follower's missing scheduler do not.</summary>
public sealed class DirectorHealthTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly (SessionState, TimeSpan) Healthy = (SessionState.Connected, TimeSpan.FromSeconds(8));

    [Fact]
    public void Loops_that_make_progress_are_healthy_and_an_unreachable_store_is_no_stall()
    {
        Assert.Empty(DirectorHealth.Evaluate(new(Healthy, Healthy, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), false, Timeout)));
        // Suspended: the store is out of reach, which restarting the director would not fix (/readyz reports it).
        Assert.Empty(DirectorHealth.Evaluate(new((SessionState.Suspended, TimeSpan.FromSeconds(-20)), null, null, null, false, Timeout)));
        // A follower has no scheduler to check; a loading term gets four timeouts.
        Assert.Empty(DirectorHealth.Evaluate(new(Healthy, Healthy, TimeSpan.Zero, TimeSpan.FromSeconds(100), true, Timeout)));
    }

    [Fact]
    public void Each_stalled_loop_is_named_with_what_stalled()
    {
        var stalled = DirectorHealth.Evaluate(new(
            (SessionState.Connected, TimeSpan.FromSeconds(-3)), Healthy, TimeSpan.FromSeconds(31), TimeSpan.FromSeconds(45), false, Timeout));

        Assert.Equal(["storeSession", "watchCaches", "scheduler"], stalled.Select(s => s.Loop));
        Assert.Contains("no scheduling pass completed for 45 s", stalled[2].Detail, StringComparison.Ordinal);
        Assert.Contains("schedulerSession", DirectorHealth.Evaluate(new(Healthy, (SessionState.Connected, TimeSpan.Zero), null, null, false, Timeout)).Select(s => s.Loop));
    }
}
