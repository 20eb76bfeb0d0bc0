using System.Collections.Concurrent;
using ControlPlane.Coordination.Resilience;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Coordination.Resilience;

public sealed class RetryShapeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static TheoryData<string> Shapes() => new(All.Keys);

    private static readonly Dictionary<string, RetryShape> All = new()
    {
        ["reconnect"] = StoreRetries.Reconnect,
        ["connect"] = StoreRetries.Connect,
        ["zk-session"] = StoreRetries.ZooKeeperSession,
        ["etcd-session"] = StoreRetries.EtcdSession,
        ["watch-resume"] = StoreRetries.WatchResume,
        ["sync"] = StoreRetries.Sync,
        ["resign"] = StoreRetries.Resign,
        ["election"] = StoreRetries.Election(TimeSpan.FromMilliseconds(200)),
        ["register"] = StoreRetries.Register,
        ["zk-rewatch"] = StoreRetries.ZooKeeperRewatch,
        ["layout"] = HostRetries.Layout,
        ["report"] = HostRetries.Report,
        ["cell"] = HostRetries.Cell,
    };

    public static TheoryData<string> BoundedShapes() => new(["etcd-rewatch", "unknown-outcome"]);

    private static readonly Dictionary<string, RetryShape> Bounded = new()
    {
        ["etcd-rewatch"] = StoreRetries.EtcdRewatch,
        ["unknown-outcome"] = StoreRetries.UnknownOutcome,
    };

    /// <summary>
    /// Runs <paramref name="shape"/> on fake time with an operation that fails <paramref name="failures"/> times,
    /// advancing the clock by exactly each announced delay, and checks nothing is tried a tick earlier.
    /// </summary>
    private static async Task<(List<TimeSpan> Delays, List<TimeSpan> Gaps, Task Run)> DriveAsync(
        RetryShape shape, int failures, Func<double>? randomizer = null, CancellationToken cancellationToken = default)
    {
        var time = new ManualTimeProvider();
        var start = time.GetTimestamp();
        var delays = new ConcurrentQueue<TimeSpan>();
        var attempts = new ConcurrentQueue<TimeSpan>();
        var pipeline = shape.Build(time, ex => ex is IOException, args => delays.Enqueue(args.RetryDelay), randomizer);
        var run = pipeline.ExecuteAsync(_ =>
        {
            attempts.Enqueue(time.GetElapsedTime(start));
            return attempts.Count <= failures ? throw new IOException("down") : ValueTask.CompletedTask;
        }, cancellationToken).AsTask();

        for (var retry = 1; retry <= failures && !run.IsCompleted; retry++)
        {
            var expected = retry;
            await Eventually.UntilAsync(() => run.IsCompleted || delays.Count >= expected, Wait);
            if (run.IsCompleted)
            {
                break;
            }

            if (attempts.Count > expected)
            {
                continue; // a delay under a millisecond: Task.Delay(0) retried at once
            }

            // Task.Delay with a TimeProvider waits whole milliseconds (it truncates), so the timer is due then.
            var due = WholeMilliseconds(delays.ElementAt(retry - 1));
            if (due > TimeSpan.Zero)
            {
                await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
                time.Advance(due - TimeSpan.FromTicks(1));
                Assert.Equal(expected, attempts.Count); // not a tick early
                time.Advance(TimeSpan.FromTicks(1));
            }

            await Eventually.UntilAsync(() => run.IsCompleted || attempts.Count >= expected + 1, Wait);
        }

        var at = attempts.ToList();
        var gaps = at.Zip(at.Skip(1), (a, b) => b - a).ToList();
        return (delays.ToList(), gaps, run);
    }

    private static TimeSpan WholeMilliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Floor(delay.TotalMilliseconds));

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Every_named_shape_waits_its_announced_delay_within_its_cap(string name)
    {
        var shape = All[name];
        var (delays, gaps, run) = await DriveAsync(shape, failures: 12);
        await run;

        Assert.Equal(12, delays.Count);
        Assert.Equal(delays.Select(WholeMilliseconds), gaps);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, shape.MaxDelay));
    }

    [Theory]
    [MemberData(nameof(BoundedShapes))]
    public async Task Every_bounded_shape_pauses_within_its_cap_and_gives_up_after_its_retries(string name)
    {
        var shape = Bounded[name];
        var (delays, gaps, run) = await DriveAsync(shape, failures: 20);

        await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal(shape.MaxRetryAttempts, delays.Count);
        Assert.Equal(delays.Select(WholeMilliseconds), gaps);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, shape.MaxDelay));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public async Task Constant_shapes_jitter_by_a_quarter_either_way(double random)
    {
        var shape = StoreRetries.Election(TimeSpan.FromMilliseconds(200));
        var (delays, _, run) = await DriveAsync(shape, failures: 5, () => random);
        await run;

        Assert.All(delays, d => Assert.InRange(d.TotalMilliseconds, 150, 250));
        Assert.Single(delays.Distinct()); // pinned randomness: the pace is steady, no growth
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public async Task Exponential_shapes_grow_to_their_cap_whatever_the_jitter(double random)
    {
        var shape = StoreRetries.Reconnect;
        var (delays, _, run) = await DriveAsync(shape, failures: 20, () => random);
        await run;

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, shape.MaxDelay));
        // Growing: the last delays are at the cap, far above the first.
        Assert.Equal(shape.MaxDelay, delays[^1]);
        Assert.True(delays[0] < shape.MaxDelay / 4, $"first delay {delays[0]}");
    }

    [Fact]
    public async Task Jitter_spreads_processes_that_failed_together()
    {
        var firsts = new HashSet<TimeSpan>();
        for (var i = 0; i < 8; i++)
        {
            var (delays, _, run) = await DriveAsync(StoreRetries.WatchResume, failures: 1);
            await run;
            firsts.Add(delays[0]);
        }

        Assert.True(firsts.Count > 1, "eight runs chose the same first delay");
    }

    [Fact]
    public async Task A_bounded_shape_gives_up_after_its_retries_with_the_last_failure()
    {
        var shape = new RetryShape("test.bounded", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), MaxRetryAttempts: 3);
        var (delays, _, run) = await DriveAsync(shape, failures: 10);

        await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal(3, delays.Count);
    }

    [Fact]
    public async Task An_until_cancelled_shape_stops_at_once_when_cancelled_during_a_delay()
    {
        using var stop = new CancellationTokenSource();
        var time = new ManualTimeProvider();
        var attempts = 0;
        var pipeline = StoreRetries.Reconnect.Build(time, _ => true);
        var run = pipeline.ExecuteAsync(_ =>
        {
            Interlocked.Increment(ref attempts);
            throw new IOException("down");
        }, stop.Token).AsTask();
        for (var i = 0; i < 30; i++)
        {
            await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
            time.Advance(StoreRetries.Reconnect.MaxDelay);
        }

        await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
        var before = Volatile.Read(ref attempts);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(before >= 31, $"{before} attempts");
        Assert.Equal(before, Volatile.Read(ref attempts)); // none after the cancellation
    }

    [Fact]
    public async Task A_failure_the_predicate_rejects_is_thrown_without_a_retry()
    {
        var time = new ManualTimeProvider();
        var attempts = 0;
        var pipeline = StoreRetries.Reconnect.Build(time, ex => ex is IOException);

        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new InvalidOperationException("bug");
        }).AsTask());
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_cancellation_not_from_the_callers_token_is_retried_like_any_failure()
    {
        var time = new ManualTimeProvider();
        var attempts = 0;
        var pipeline = StoreRetries.Register.Build(time, _ => true);
        var run = pipeline.ExecuteAsync(_ =>
        {
            // An inner timeout of the operation, not the caller giving up.
            return ++attempts == 1 ? throw new OperationCanceledException("inner timeout") : ValueTask.CompletedTask;
        }).AsTask();

        await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
        time.Advance(StoreRetries.Register.MaxDelay);
        await run;
        Assert.Equal(2, attempts);
    }
}
