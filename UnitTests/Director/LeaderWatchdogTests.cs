using ControlPlane.Director.Hosting;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Director;

/// <summary>The leader's watchdog on a fake clock: a loop that stops making progress is reported once the timeout
/// passes (four timeouts while loading), a loop that keeps progressing never is.</summary>
public sealed class LeaderWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_loop_that_stops_making_progress_is_reported_after_the_timeout_and_not_before()
    {
        var clock = new ManualTimeProvider();
        var lastProgress = clock.GetTimestamp();
        var run = new TaskCompletionSource();
        var watch = LeaderWatchdog.WaitForStallAsync(() => clock.GetElapsedTime(lastProgress), () => false, run.Task, Timeout, clock, CancellationToken.None);

        // Progress every second for a minute: never a stall.
        for (var i = 0; i < 60; i++)
        {
            await StepAsync(clock, watch);
            lastProgress = clock.GetTimestamp();
        }

        Assert.False(watch.IsCompleted);

        // Then none: not reported while the silence is within the timeout...
        for (var i = 0; i < 30; i++)
        {
            await StepAsync(clock, watch);
        }

        Assert.False(watch.IsCompleted, "reported before the timeout");

        // ...and reported within one check period (a tenth of the timeout) after it.
        for (var i = 0; i < 4 && !watch.IsCompleted; i++)
        {
            await StepAsync(clock, watch);
        }

        Assert.True(await watch.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Waits until the watchdog waits on the clock (or has answered), then moves the clock a second on.</summary>
    private static async Task StepAsync(ManualTimeProvider clock, Task watch)
    {
        await Eventually.UntilAsync(() => clock.PendingTimers > 0 || watch.IsCompleted, TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Loading_gets_four_timeouts_and_a_loop_that_ends_is_no_stall()
    {
        var clock = new ManualTimeProvider();
        var start = clock.GetTimestamp();
        var run = new TaskCompletionSource();
        var watch = LeaderWatchdog.WaitForStallAsync(() => clock.GetElapsedTime(start), () => true, run.Task, Timeout, clock, CancellationToken.None);
        for (var i = 0; i < 100; i++)
        {
            await StepAsync(clock, watch);
        }

        Assert.False(watch.IsCompleted, "a loading term was reported after 100 s (limit 120 s)");
        run.SetResult();
        Assert.False(await watch.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(120), LeaderWatchdog.Limit(Timeout, loading: true));
    }
}
