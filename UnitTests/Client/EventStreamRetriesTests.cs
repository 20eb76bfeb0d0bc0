using System.Collections.Concurrent;
using ControlPlane.Client;
using ControlPlane.Client.Internal;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Client;

/// <summary>The event stream's reconnect pipeline (<c>ControlPlane.EventStream</c>) on fake time: the pauses, their
/// jitter bounds, the cap and the limit.</summary>
public sealed class EventStreamRetriesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void Pauses_double_from_half_a_second_to_ten_seconds_each_within_a_quarter_either_way()
    {
        double[] expected = [0.5, 1, 2, 4, 8, 10, 10, 10];
        for (var retry = 1; retry <= expected.Length; retry++)
        {
            var median = TimeSpan.FromSeconds(expected[retry - 1]);
            Assert.Equal(median, EventStreamRetries.Delay(retry, 0.5));
            Assert.Equal(median * 0.75, EventStreamRetries.Delay(retry, 0));
            Assert.InRange(EventStreamRetries.Delay(retry, 0.999_999), median * 1.249, median * 1.25);
        }

        // The cap holds however long the outage: no pause is ever above 12.5 s.
        Assert.Equal(ControlPlaneClient.MaxEventStreamDelay, EventStreamRetries.Delay(1_000, 0.5));
        Assert.True(EventStreamRetries.Delay(int.MaxValue, 0.999_999) < ControlPlaneClient.MaxEventStreamDelay * 1.25);
        Assert.Throws<ArgumentOutOfRangeException>(() => EventStreamRetries.Delay(0, 0.5));
    }

    [Fact]
    public async Task The_pipeline_waits_each_pause_on_the_clients_clock_and_gives_up_after_the_last_retry()
    {
        var time = new ManualTimeProvider();
        var start = time.GetTimestamp();
        var draws = new Queue<double>([0, 0.999, 0.5, 0.25, 0, 0.999, 0.5, 0.75]);
        var pauses = new ConcurrentQueue<(int Retry, TimeSpan Delay)>();
        var pipeline = EventStreamRetries.Build(time, e => e is IOException, (_, retry, delay, _) => pauses.Enqueue((retry, delay)), draws.Dequeue);
        var at = new ConcurrentQueue<TimeSpan>();
        var run = pipeline.ExecuteAsync(_ =>
        {
            at.Enqueue(time.GetElapsedTime(start));
            throw new IOException($"stream {at.Count} broke before any event");
        }).AsTask();

        while (!run.IsCompleted)
        {
            await Eventually.UntilAsync(() => run.IsCompleted || time.PendingTimers > 0, Wait);
            if (run.IsCompleted)
            {
                break;
            }

            // In the pause it announced last: nothing is tried a tick early, the next attempt right on time.
            var (_, pause) = pauses.Last();
            var before = at.Count;
            time.Advance(WholeMilliseconds(pause) - TimeSpan.FromTicks(1));
            Assert.Equal(before, at.Count);
            time.Advance(TimeSpan.FromTicks(1));
            await Eventually.UntilAsync(() => run.IsCompleted || at.Count > before, Wait);
        }

        var failure = await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal($"stream {ControlPlaneClient.MaxEventStreamRetries + 1} broke before any event", failure.Message);
        Assert.Equal(Enumerable.Range(1, ControlPlaneClient.MaxEventStreamRetries), pauses.Select(p => p.Retry));
        double[] draw = [0, 0.999, 0.5, 0.25, 0, 0.999, 0.5, 0.75];
        Assert.Equal(pauses.Select(p => p.Retry).Select(r => EventStreamRetries.Delay(r, draw[r - 1])), pauses.Select(p => p.Delay));
        var times = at.ToList();
        Assert.Equal(pauses.Select(p => WholeMilliseconds(p.Delay)), times.Zip(times.Skip(1), (a, b) => b - a));
    }

    [Fact]
    public async Task A_failure_it_does_not_handle_is_thrown_at_once_without_a_pause()
    {
        var time = new ManualTimeProvider();
        var attempts = 0;
        var pipeline = EventStreamRetries.Build(time, e => e is IOException);

        var run = pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new InvalidOperationException("not an event stream");
        }).AsTask();

        await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        Assert.Equal(1, attempts);
        Assert.Equal(0, time.PendingTimers);
    }

    [Fact]
    public async Task Cancelling_during_a_pause_ends_it_without_another_attempt()
    {
        var time = new ManualTimeProvider();
        var attempts = 0;
        using var cancel = new CancellationTokenSource();
        var pipeline = EventStreamRetries.Build(time, e => e is IOException);

        var run = pipeline.ExecuteAsync(_ =>
        {
            Interlocked.Increment(ref attempts);
            throw new IOException("broke");
        }, cancel.Token).AsTask();
        await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, Volatile.Read(ref attempts));
    }

    private static TimeSpan WholeMilliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Floor(delay.TotalMilliseconds));
}
