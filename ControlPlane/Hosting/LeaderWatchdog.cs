namespace ControlPlane.Director.Hosting;

/// <summary>
/// The leader's watchdog (docs/architecture.md, "A stalled leader resigns"): watches a term's scheduling loop and says
/// when it has made no progress for <c>Scheduler:WatchdogTimeout</c> (four timeouts while the term's caches load). A
/// pure loop on an injected clock and two readings of the loop, so a unit test drives it with a fake clock.
/// </summary>
internal static class LeaderWatchdog
{
    /// <summary>Returns true once <paramref name="sinceProgress"/> exceeds the limit while <paramref name="run"/> has not
    /// ended, false when the loop ended on its own or <paramref name="cancellationToken"/> fired. Checks ten times per
    /// timeout (at least every 100 ms).</summary>
    /// <param name="sinceProgress">Time since the loop last completed a pass (or started its term).</param>
    /// <param name="loading">Whether the term's caches are still loading.</param>
    /// <param name="run">The loop.</param>
    /// <param name="timeout">The watchdog timeout.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Ends the watch.</param>
    public static async Task<bool> WaitForStallAsync(
        Func<TimeSpan> sinceProgress, Func<bool> loading, Task run, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(timeout.Ticks / 10, TimeSpan.FromMilliseconds(100).Ticks));
        while (!run.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Not a retry: the watchdog's check period (or the scheduler ending, whichever comes first).
                await Task.WhenAny(run, Task.Delay(period, time, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            if (!run.IsCompleted && sinceProgress() > Limit(timeout, loading()))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How long the loop may go without progress: loading a large tree at the start of a term may take longer
    /// than a pass, so it gets four timeouts.</summary>
    public static TimeSpan Limit(TimeSpan timeout, bool loading) => loading ? timeout * 4 : timeout;
}
