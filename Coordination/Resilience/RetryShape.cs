using Polly;
using Polly.Retry;

namespace ControlPlane.Coordination.Resilience;

/// <summary>
/// The shape of one named retry pipeline: capped exponential (or constant) backoff with Polly's jitter, bounded by a
/// number of retries, or running until the caller's token is cancelled where that is the point (a watch or a
/// session that must come back for the life of the process). Each purpose names its shape once
/// (<see cref="StoreRetries"/>, and the director's and agents' own), and <see cref="Build"/> turns it into a Polly
/// pipeline on the component's <see cref="TimeProvider"/>, so unit tests drive the delays on fake time.
/// </summary>
/// <param name="Name">The pipeline's name in logs and Polly telemetry, e.g. <c>store.reconnect</c>.</param>
/// <param name="Delay">The median first delay; later ones grow exponentially (Polly <see cref="DelayBackoffType.Exponential"/>).</param>
/// <param name="MaxDelay">No single delay is longer.</param>
/// <param name="MaxRetryAttempts">Retries after the first try; <see cref="UntilCancelled"/> to retry until the token fires.</param>
/// <param name="Backoff">Exponential by default; <see cref="DelayBackoffType.Constant"/> for a steady pace
/// (Polly's jitter then spreads each delay by ±25 %).</param>
public sealed record RetryShape(
    string Name, TimeSpan Delay, TimeSpan MaxDelay, int MaxRetryAttempts, DelayBackoffType Backoff = DelayBackoffType.Exponential)
{
    /// <summary>Retries for as long as the caller's token is not cancelled: only for loops that must never give up.</summary>
    public const int UntilCancelled = int.MaxValue;

    /// <summary>
    /// Builds the pipeline. Once the token passed to <c>ExecuteAsync</c> is cancelled nothing is retried: a wait
    /// ends with <see cref="OperationCanceledException"/>, a failed attempt's exception is thrown as it is (an
    /// operation cut short by that token may fail in its own way, so until-cancelled callers catch any exception
    /// once their token is cancelled). A cancellation that did not come
    /// from that token (an inner timeout) is a failure like any other, retried if <paramref name="handle"/> says so.
    /// </summary>
    /// <param name="time">Clock of the delays (fake in tests).</param>
    /// <param name="handle">Which failures are retried; others are thrown at once.</param>
    /// <param name="onRetry">Called before each delay (logging); may be null.</param>
    /// <param name="randomizer">Source of jitter in [0, 1); tests pin it to show the bounds. Polly's by default.</param>
    public ResiliencePipeline Build(
        TimeProvider time, Func<Exception, bool> handle, Action<OnRetryArguments<object>>? onRetry = null, Func<double>? randomizer = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(handle);
        var options = new RetryStrategyOptions
        {
            Name = Name,
            BackoffType = Backoff,
            UseJitter = true,
            Delay = Delay,
            MaxDelay = MaxDelay,
            MaxRetryAttempts = MaxRetryAttempts,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } ex && !args.Context.CancellationToken.IsCancellationRequested && handle(ex)),
            OnRetry = args =>
            {
                onRetry?.Invoke(args);
                return ValueTask.CompletedTask;
            },
        };
        if (randomizer is not null)
        {
            options.Randomizer = randomizer;
        }

        return new ResiliencePipelineBuilder { Name = Name, TimeProvider = time }.AddRetry(options).Build();
    }
}
