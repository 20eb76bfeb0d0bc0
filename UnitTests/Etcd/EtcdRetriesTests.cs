using System.Collections.Concurrent;
using System.Net.Sockets;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Internal;
using ControlPlane.TestSupport;
using Polly;

namespace ControlPlane.UnitTests.Etcd;

/// <summary>The etcd client's retry pipelines on fake time: the pauses, their jitter and their limits.</summary>
public sealed class EtcdRetriesTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    private static Exception Refused() =>
        new HttpRequestException(HttpRequestError.ConnectionError, "refused", new SocketException((int)SocketError.ConnectionRefused));

    private static TimeSpan WholeMilliseconds(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Floor(delay.TotalMilliseconds));

    /// <summary>
    /// Runs one call through the <c>etcd.call</c> pipeline on fake time. <paramref name="attempt"/> gets the attempt's
    /// number (1-based) and fails or answers. The clock is advanced by exactly each announced pause, after checking
    /// that nothing was tried a tick earlier. Returns the time of each attempt and the outcome.
    /// </summary>
    private static async Task<(List<TimeSpan> At, ScriptedCall Call, Task<int> Run)> RunCallAsync(
        int endpoints, ScriptedCall call, Func<int, int> attempt, Func<double>? randomizer = null, CancellationToken cancellationToken = default)
    {
        var time = new ManualTimeProvider();
        var start = time.GetTimestamp();
        var pipeline = EtcdRetries.BuildCall(endpoints, MaxDelay, time, randomizer);
        var at = new ConcurrentQueue<TimeSpan>();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(EtcdRetries.Attempts, call);
        var run = pipeline.ExecuteAsync((_, _) =>
        {
            at.Enqueue(time.GetElapsedTime(start));
            return ValueTask.FromResult(attempt(at.Count));
        }, context, 0).AsTask();

        while (!run.IsCompleted)
        {
            await Eventually.UntilAsync(() => run.IsCompleted || time.PendingTimers > 0, Wait);
            if (run.IsCompleted)
            {
                break;
            }

            // A timer is pending: the pipeline is in the pause it announced last.
            var pause = call.Pauses.Last();
            var before = at.Count;
            time.Advance(WholeMilliseconds(pause) - TimeSpan.FromTicks(1));
            Assert.Equal(before, at.Count); // not a tick early
            time.Advance(TimeSpan.FromTicks(1));
            await Eventually.UntilAsync(() => run.IsCompleted || at.Count > before, Wait);
        }

        return ([.. at], call, run);
    }

    [Fact]
    public async Task A_read_tries_every_endpoint_at_once_then_pauses_between_rounds_and_gives_up_after_three()
    {
        var (at, call, run) = await RunCallAsync(3, new ScriptedCall(idempotent: true), _ => throw new IOException("reset"));

        await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Equal(EtcdRetries.CallRounds * 3, at.Count);
        var pauses = call.Pauses.ToList();
        Assert.Equal(8, pauses.Count); // every failure but the last moved on from its endpoint
        for (var i = 0; i < pauses.Count; i++)
        {
            var endOfRound = (i + 1) % 3 == 0;
            if (endOfRound)
            {
                Assert.InRange(pauses[i], TimeSpan.Zero, MaxDelay);
                Assert.Equal(WholeMilliseconds(pauses[i]), at[i + 1] - at[i]);
            }
            else
            {
                Assert.Equal(TimeSpan.Zero, pauses[i]);
                Assert.Equal(at[i], at[i + 1]); // the next endpoint at once
            }
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public async Task The_pauses_between_rounds_grow_within_the_cap_whatever_the_jitter(double random)
    {
        var (_, call, run) = await RunCallAsync(1, new ScriptedCall(idempotent: true), _ => throw new IOException("reset"), () => random);

        await Assert.ThrowsAsync<IOException>(() => run);
        var pauses = call.Pauses.ToList();
        Assert.Equal(EtcdRetries.CallRounds - 1, pauses.Count);
        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.Zero, MaxDelay));
        // Decorrelated jitter around a median of 50 ms: the first pause is below 70 ms, the second above it unless capped.
        Assert.True(pauses[0] < TimeSpan.FromMilliseconds(70), $"first pause {pauses[0]}");
        Assert.True(pauses[1] >= pauses[0], $"pauses {pauses[0]} then {pauses[1]}");
    }

    [Fact]
    public async Task Jitter_spreads_clients_that_failed_together()
    {
        var firsts = new HashSet<TimeSpan>();
        for (var i = 0; i < 8; i++)
        {
            var (_, call, run) = await RunCallAsync(1, new ScriptedCall(idempotent: true), n => n == 1 ? throw new IOException("reset") : n);
            await run;
            firsts.Add(call.Pauses.Single());
        }

        Assert.True(firsts.Count > 1, "eight clients chose the same pause");
    }

    [Fact]
    public async Task A_write_whose_outcome_is_unknown_is_never_repeated()
    {
        var (at, call, run) = await RunCallAsync(3, new ScriptedCall(idempotent: false), _ => throw new IOException("reset mid-call"));

        await Assert.ThrowsAsync<IOException>(() => run);
        Assert.Single(at);
        Assert.Empty(call.Pauses);
    }

    [Fact]
    public async Task A_write_that_provably_never_left_moves_on_to_the_next_endpoint()
    {
        var (at, call, run) = await RunCallAsync(3, new ScriptedCall(idempotent: false), n => n < 3 ? throw Refused() : n);

        Assert.Equal(3, await run);
        Assert.Equal(3, at.Count);
        Assert.Equal(new[] { TimeSpan.Zero, TimeSpan.Zero }, call.Pauses);
    }

    [Fact]
    public async Task Unavailable_is_repeated_for_a_read_but_not_for_a_write()
    {
        var unavailable = new EtcdException(GrpcStatusCode.Unavailable, "etcdserver: leader changed");
        var (readAt, _, read) = await RunCallAsync(2, new ScriptedCall(idempotent: true), n => n == 1 ? throw unavailable : n);
        var (writeAt, _, write) = await RunCallAsync(2, new ScriptedCall(idempotent: false), _ => throw unavailable);

        Assert.Equal(2, await read);
        Assert.Equal(2, readAt.Count);
        await Assert.ThrowsAsync<EtcdException>(() => write);
        Assert.Single(writeAt);
    }

    [Fact]
    public async Task A_rejected_token_is_renewed_and_the_attempt_repeated_at_once_but_only_once_per_call()
    {
        var rejected = new EtcdAuthenticationException("etcdserver: invalid auth token");
        var call = new ScriptedCall(idempotent: false, canReauthenticate: true);
        var (at, _, run) = await RunCallAsync(3, call, _ => throw rejected);

        await Assert.ThrowsAsync<EtcdAuthenticationException>(() => run);
        Assert.Equal(2, at.Count);
        Assert.Equal(at[0], at[1]);
        Assert.Equal(1, call.Renewals);
        Assert.Empty(call.Pauses); // the endpoint was not blamed
    }

    [Fact]
    public async Task A_read_that_ran_out_of_its_share_of_the_budget_moves_on_at_once()
    {
        var (at, _, run) = await RunCallAsync(2, new ScriptedCall(idempotent: true),
            n => n == 1 ? throw new AttemptTimeoutException("no answer within half the request timeout", new OperationCanceledException()) : n);

        Assert.Equal(2, await run);
        Assert.Equal(2, at.Count);
    }

    [Fact]
    public async Task The_deadline_ends_a_pause_without_another_attempt()
    {
        using var deadline = new CancellationTokenSource();
        var time = new ManualTimeProvider();
        var call = new ScriptedCall(idempotent: true);
        var attempts = 0;
        var context = ResilienceContextPool.Shared.Get(deadline.Token);
        context.Properties.Set(EtcdRetries.Attempts, call);
        var run = EtcdRetries.BuildCall(1, MaxDelay, time, () => 0.9).ExecuteAsync<int, int>((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            throw new IOException("reset");
        }, context, 0).AsTask();

        await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
        await deadline.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public void A_reconnect_delay_cap_that_is_not_positive_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new EtcdClient(new EtcdClientOptions { Endpoints = "127.0.0.1:1", MaxReconnectDelay = TimeSpan.Zero }));
        Assert.Contains(nameof(EtcdClientOptions.MaxReconnectDelay), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_that_keeps_failing_to_open_waits_longer_each_time_up_to_the_cap()
    {
        var script = new StreamScript(Enumerable.Repeat(StreamStep.Fail, 15));
        await script.RunAsync(random: () => 0.5);

        var pauses = script.Pauses.ToList();
        Assert.Equal(15, pauses.Count);
        Assert.All(pauses, p => Assert.InRange(p, TimeSpan.Zero, MaxDelay));
        Assert.Equal(MaxDelay, pauses[^1]);
        Assert.True(pauses[0] < TimeSpan.FromMilliseconds(70), $"first pause {pauses[0]}");
        Assert.Equal(script.Pauses.Select(WholeMilliseconds), script.Gaps);
    }

    [Fact]
    public async Task A_stream_that_delivered_is_reopened_after_one_first_pause_and_the_backoff_starts_over()
    {
        StreamStep[] steps = [StreamStep.Fail, StreamStep.Fail, StreamStep.Fail, StreamStep.Fail, StreamStep.Deliver, StreamStep.Fail];
        var script = new StreamScript(steps);
        await script.RunAsync(random: () => 0.5);

        var pauses = script.Pauses.ToList();
        // Four growing pauses, then the break of the stream that delivered (one first pause), then a failure
        // to reopen: again the first pause, not the fifth.
        Assert.Equal(6, pauses.Count);
        Assert.True(pauses[3] > pauses[0], $"pauses {string.Join(", ", pauses)}");
        Assert.Equal(pauses[0], pauses[4]);
        Assert.Equal(pauses[1], pauses[5]);
        Assert.True(WholeMilliseconds(pauses[4]) > TimeSpan.Zero, "the reopen waited");
        Assert.Equal(script.Pauses.Select(WholeMilliseconds), script.Gaps);
    }

    [Fact]
    public async Task With_nothing_to_stream_the_loop_waits_until_woken_and_stops_when_disposed()
    {
        using var stopping = new CancellationTokenSource();
        var time = new ManualTimeProvider();
        var wake = new SemaphoreSlim(0);
        var streams = 0;
        var pipeline = EtcdRetries.BuildStream("test.stream", MaxDelay, time);
        var loop = EtcdRetries.RunStreamAsync(pipeline, _ =>
        {
            Interlocked.Increment(ref streams);
            return ValueTask.FromResult<Exception?>(null);
        }, ct => wake.WaitAsync(ct), stopping.Token);

        await Eventually.UntilAsync(() => Volatile.Read(ref streams) == 1, Wait);
        wake.Release();
        await Eventually.UntilAsync(() => Volatile.Read(ref streams) == 2, Wait);
        await stopping.CancelAsync();

        await loop.WaitAsync(Wait);
        Assert.Equal(2, Volatile.Read(ref streams));
        Assert.Equal(0, time.PendingTimers);
    }

    private enum StreamStep
    {
        /// <summary>The stream cannot open (or breaks before any answer).</summary>
        Fail,

        /// <summary>The stream delivers, then breaks.</summary>
        Deliver,
    }

    /// <summary>Runs <see cref="EtcdRetries.RunStreamAsync"/> over scripted streams on fake time, advancing the
    /// clock by exactly each announced pause; stops the loop once the script is played.</summary>
    private sealed class StreamScript(IEnumerable<StreamStep> steps)
    {
        private readonly Queue<StreamStep> _steps = new(steps);
        private readonly ConcurrentQueue<TimeSpan> _at = new();

        public ConcurrentQueue<TimeSpan> Pauses { get; } = new();

        public List<TimeSpan> Gaps { get; private set; } = [];

        public async Task RunAsync(Func<double> random)
        {
            using var stopping = new CancellationTokenSource();
            var time = new ManualTimeProvider();
            var start = time.GetTimestamp();
            var total = _steps.Count;
            var pipeline = EtcdRetries.BuildStream("test.stream", MaxDelay, time, args => Pauses.Enqueue(args.RetryDelay), random);
            var loop = EtcdRetries.RunStreamAsync(pipeline, _ =>
            {
                _at.Enqueue(time.GetElapsedTime(start));
                if (!_steps.TryDequeue(out var step))
                {
                    // Played: park until stopped.
                    return new ValueTask<Exception?>(Task.Delay(Timeout.Infinite, stopping.Token).ContinueWith<Exception?>(
                        _ => null, TaskScheduler.Default));
                }

                return step == StreamStep.Deliver
                    ? ValueTask.FromResult<Exception?>(new IOException("broke after delivering"))
                    : throw new IOException("refused");
            }, _ => Task.CompletedTask, stopping.Token);

            for (var pause = 1; pause <= total; pause++)
            {
                var expected = pause;
                await Eventually.UntilAsync(() => Pauses.Count >= expected && _at.Count == expected, Wait);
                var due = WholeMilliseconds(Pauses.ElementAt(pause - 1));
                if (due > TimeSpan.Zero)
                {
                    await Eventually.UntilAsync(() => time.PendingTimers > 0, Wait);
                    time.Advance(due - TimeSpan.FromTicks(1));
                    Assert.Equal(expected, _at.Count); // not a tick early
                    time.Advance(TimeSpan.FromTicks(1));
                }

                await Eventually.UntilAsync(() => _at.Count > expected, Wait);
            }

            await stopping.CancelAsync();
            await loop.WaitAsync(Wait);
            var at = _at.ToList();
            Gaps = [.. at.Zip(at.Skip(1), (a, b) => b - a)];
        }
    }

    /// <summary>A call as the pipeline sees it, recording the pauses and renewals it is asked for.</summary>
    private sealed class ScriptedCall(bool idempotent, bool canReauthenticate = false) : UnaryAttempts(idempotent, canReauthenticate)
    {
        private int _renewals;

        public ConcurrentQueue<TimeSpan> Pauses { get; } = new();

        public int Renewals => Volatile.Read(ref _renewals);

        public override void OnFailover(Exception failure, int retry, TimeSpan delay) => Pauses.Enqueue(delay);

        protected override ValueTask RenewAsync(Exception rejection, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _renewals);
            return ValueTask.CompletedTask;
        }
    }
}
