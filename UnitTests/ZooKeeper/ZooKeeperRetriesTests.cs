using System.Collections.Concurrent;
using System.Net.Sockets;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper.Internal;
using Polly;
using Polly.Retry;

namespace ControlPlane.UnitTests.ZooKeeper;

/// <summary>The ZooKeeper client's retry pipelines on fake time: the pauses, their jitter and their limits.</summary>
public sealed class ZooKeeperRetriesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    private static TimeSpan WholeMilliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Floor(delay.TotalMilliseconds));

    /// <summary>
    /// Runs a pipeline built by <paramref name="build"/> on fake time with an operation that always fails, advancing
    /// the clock by exactly each announced pause (checking nothing is tried a tick earlier), until
    /// <paramref name="attempts"/> attempts were made; then cancels the caller's token.
    /// </summary>
    private static async Task<(List<TimeSpan> Pauses, List<TimeSpan> Gaps)> DriveAsync(
        Func<TimeProvider, Action<OnRetryArguments<object>>, ResiliencePipeline> build, int attempts)
    {
        using var stop = new CancellationTokenSource();
        var time = new ManualTimeProvider();
        var start = time.GetTimestamp();
        var pauses = new ConcurrentQueue<TimeSpan>();
        var at = new ConcurrentQueue<TimeSpan>();
        var pipeline = build(time, args => pauses.Enqueue(args.RetryDelay));
        var run = pipeline.ExecuteAsync(_ =>
        {
            at.Enqueue(time.GetElapsedTime(start));
            throw new SocketException((int)SocketError.ConnectionRefused);
        }, stop.Token).AsTask();

        for (var retry = 1; retry < attempts; retry++)
        {
            var expected = retry;
            await Eventually.UntilAsync(() => pauses.Count >= expected, Wait);
            if (at.Count > expected)
            {
                continue; // a pause under a millisecond: retried at once
            }

            var due = WholeMilliseconds(pauses.ElementAt(retry - 1));
            if (due > TimeSpan.Zero)
            {
                await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
                time.Advance(due - TimeSpan.FromTicks(1));
                Assert.Equal(expected, at.Count); // not a tick early
                time.Advance(TimeSpan.FromTicks(1));
            }

            await Eventually.UntilAsync(() => at.Count > expected, Wait);
        }

        // Cancelled during the pause after the last attempt (or at once if there is none).
        await Eventually.UntilAsync(() => pauses.Count >= attempts, Wait);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var times = at.ToList();
        Assert.Equal(attempts, times.Count); // nothing tried after the cancellation
        return ([.. pauses.Take(attempts - 1)], [.. times.Zip(times.Skip(1), (a, b) => b - a)]);
    }

    [Fact]
    public async Task Opening_a_session_tries_every_server_at_once_and_pauses_between_rounds_until_its_budget_ends()
    {
        var (pauses, gaps) = await DriveAsync(
            (time, onRetry) => ZooKeeperRetries.BuildConnect(3, MaxDelay, time, onRetry, () => 0.5), attempts: 15);

        for (var i = 0; i < pauses.Count; i++)
        {
            if ((i + 1) % 3 == 0)
            {
                Assert.InRange(pauses[i], TimeSpan.Zero, MaxDelay);
            }
            else
            {
                Assert.Equal(TimeSpan.Zero, pauses[i]); // the next server at once
            }
        }

        Assert.Equal(pauses.Select(WholeMilliseconds), gaps);
        // Between rounds the pauses grow (pinned jitter); there is no count limit: after five rounds the pipeline was
        // still trying when its budget ended.
        var betweenRounds = pauses.Where((_, i) => (i + 1) % 3 == 0).ToList();
        Assert.Equal(4, betweenRounds.Count);
        Assert.True(betweenRounds.Zip(betweenRounds.Skip(1)).All(p => p.Second > p.First || p.Second == MaxDelay),
            string.Join(", ", betweenRounds));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public async Task Resuming_a_session_retries_once_at_once_then_backs_off_to_the_cap_whatever_the_jitter(double random)
    {
        var (pauses, gaps) = await DriveAsync(
            (time, onRetry) => ZooKeeperRetries.BuildReconnect(MaxDelay, time, onRetry, () => random), attempts: 12);

        Assert.Equal(TimeSpan.Zero, pauses[0]);
        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.Zero, MaxDelay));
        Assert.Equal(MaxDelay, pauses[^1]);
        Assert.True(pauses[1] < TimeSpan.FromMilliseconds(150), $"first pause {pauses[1]}");
        Assert.Equal(pauses.Select(WholeMilliseconds), gaps);
    }

    [Fact]
    public async Task Jitter_spreads_clients_cut_off_together()
    {
        var seconds = new HashSet<TimeSpan>();
        for (var i = 0; i < 8; i++)
        {
            var (pauses, _) = await DriveAsync((time, onRetry) => ZooKeeperRetries.BuildReconnect(MaxDelay, time, onRetry), attempts: 3);
            seconds.Add(pauses[1]);
        }

        Assert.True(seconds.Count > 1, "eight clients chose the same pause");
    }
}
