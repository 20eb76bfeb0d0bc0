using System.Collections.Concurrent;
using ControlPlane.Coordination.Resilience;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Coordination.Resilience;

/// <summary>A loop that cannot run inside a delegate takes its pauses from a shape's pipeline, on fake time.</summary>
public sealed class RetryPacerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static TimeSpan WholeMilliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Floor(delay.TotalMilliseconds));

    private sealed class Loop(RetryShape shape, Func<double>? randomizer = null) : IDisposable
    {
        public ManualTimeProvider Time { get; } = new();

        public ConcurrentQueue<TimeSpan> Pauses { get; } = new();

        public RetryPacer Pacer { get; private set; } = null!;

        public Loop Start()
        {
            Pacer = new RetryPacer(shape, Time, args => Pauses.Enqueue(args.RetryDelay), randomizer);
            return this;
        }

        /// <summary>Reports a failure and lets exactly its announced pause pass (checking it is not over a tick early).</summary>
        public async Task<TimeSpan> FailAsync(Exception failure, CancellationToken cancellationToken = default)
        {
            var before = Pauses.Count;
            var pause = Pacer.PauseAfterAsync(failure, cancellationToken);
            await Eventually.UntilAsync(() => pause.IsCompleted || Pauses.Count > before, Wait);
            if (pause.IsCompleted)
            {
                await pause; // gave up (throws), or a pause under a millisecond
                return Pauses.Count > before ? Pauses.Last() : TimeSpan.Zero;
            }

            var announced = Pauses.Last();
            var due = WholeMilliseconds(announced);
            if (due == TimeSpan.Zero)
            {
                await pause.WaitAsync(Wait); // Task.Delay waits whole milliseconds: none
                return announced;
            }

            await Eventually.UntilAsync(() => Time.PendingTimers > 0, Wait);
            Time.Advance(due - TimeSpan.FromTicks(1));
            await Task.Yield();
            Assert.False(pause.IsCompleted, "the pause ended a tick early");
            Time.Advance(TimeSpan.FromTicks(1));
            await pause.WaitAsync(Wait);
            return announced;
        }

        public void Dispose() => Pacer.Dispose();
    }

    [Fact]
    public async Task Pauses_grow_while_failures_follow_each_other_and_stay_under_the_cap()
    {
        using var loop = new Loop(StoreRetries.ZooKeeperRewatch, () => 0.5).Start();
        var pauses = new List<TimeSpan>();
        for (var i = 0; i < 12; i++)
        {
            pauses.Add(await loop.FailAsync(new IOException("down")));
        }

        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.Zero, StoreRetries.ZooKeeperRewatch.MaxDelay));
        Assert.True(pauses[3] > pauses[0], string.Join(", ", pauses));
        Assert.Equal(StoreRetries.ZooKeeperRewatch.MaxDelay, pauses[^1]);
    }

    [Fact]
    public async Task After_a_reset_the_next_failure_pauses_from_the_first_delay_again()
    {
        using var loop = new Loop(StoreRetries.EtcdRewatch, () => 0.5).Start();
        var first = await loop.FailAsync(new IOException("down"));
        await loop.FailAsync(new IOException("down"));
        var third = await loop.FailAsync(new IOException("down"));

        loop.Pacer.Reset();

        Assert.True(third > first, $"{first} then {third}");
        Assert.Equal(first, await loop.FailAsync(new IOException("down again")));
    }

    [Fact]
    public async Task A_bounded_shape_gives_the_failure_back_once_its_retries_are_spent_then_starts_over()
    {
        using var loop = new Loop(StoreRetries.EtcdRewatch).Start();
        for (var i = 0; i < StoreRetries.EtcdRewatch.MaxRetryAttempts; i++)
        {
            await loop.FailAsync(new IOException("down"));
        }

        var last = new IOException("still down");
        Assert.Same(last, await Assert.ThrowsAsync<IOException>(() => loop.FailAsync(last)));
        Assert.Equal(StoreRetries.EtcdRewatch.MaxRetryAttempts, loop.Pauses.Count); // no pause after the last

        await loop.FailAsync(new IOException("a new outage"));
        Assert.Equal(StoreRetries.EtcdRewatch.MaxRetryAttempts + 1, loop.Pauses.Count);
    }

    [Fact]
    public async Task A_cancelled_wait_ends_at_once_and_disposing_leaves_no_timer_behind()
    {
        using var stop = new CancellationTokenSource();
        var loop = new Loop(StoreRetries.ZooKeeperRewatch).Start();
        var pause = loop.Pacer.PauseAfterAsync(new IOException("down"), stop.Token);
        await Eventually.UntilAsync(() => loop.Time.PendingTimers > 0, Wait);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pause.WaitAsync(Wait));
        loop.Dispose();
        await Eventually.UntilAsync(() => loop.Time.PendingTimers == 0, Wait);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.Pacer.PauseAfterAsync(new IOException("late"), CancellationToken.None));
    }
}
