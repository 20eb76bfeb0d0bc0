using Polly;
using Polly.Retry;

namespace ControlPlane.Client.Internal;

/// <summary>
/// <c>ControlPlane.EventStream</c>: opening the event stream of <see cref="ControlPlaneClient.StreamEventsAsync"/> again
/// after a stream failed before delivering any event (no director could serve it, the connection broke, the stream
/// ended or was cut off at once). A Polly retry on the client's <see cref="TimeProvider"/>: one execution per outage, so
/// a stream that delivered starts the count and the pauses afresh.
/// </summary>
/// <remarks>
/// The pause before retry <c>n</c> (from 1) is <see cref="ControlPlaneClient.FirstEventStreamDelay"/> (0.5 s) doubled
/// <c>n - 1</c> times, capped at <see cref="ControlPlaneClient.MaxEventStreamDelay"/> (10 s), times a jitter factor
/// drawn uniformly from [0.75, 1.25), so many clients cut off together do not come back in the same instant: 0.5, 1, 2,
/// 4, 8, then 10 s, each ±25 % (so never above 12.5 s). At most <see cref="ControlPlaneClient.MaxEventStreamRetries"/>
/// (8) retries in a row; the last failure is then the caller's. Computed by a delay generator rather than Polly's own
/// jitter, whose decorrelated curve would change the pauses this client has always documented.
/// </remarks>
internal static class EventStreamRetries
{
    /// <summary>The pipeline's name in Polly's telemetry.</summary>
    public const string Name = "ControlPlane.EventStream";

    /// <summary>The pause before retry <paramref name="retry"/> (from 1) with the jitter draw <paramref name="random"/>
    /// in [0, 1): the remarks' curve.</summary>
    public static TimeSpan Delay(int retry, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponential = ControlPlaneClient.FirstEventStreamDelay * Math.Pow(2, Math.Min(retry - 1, 16));
        var capped = exponential < ControlPlaneClient.MaxEventStreamDelay ? exponential : ControlPlaneClient.MaxEventStreamDelay;
        return capped * (0.75 + (random / 2));
    }

    /// <summary>Builds the pipeline. Nothing is retried once the token of the execution is cancelled.</summary>
    /// <param name="time">Clock of the pauses (the client's; fake in tests).</param>
    /// <param name="handle">Which failures are worth opening the stream again for; others are thrown at once.</param>
    /// <param name="onRetry">Called before each pause with the retry (from 1), the pause and the failure.</param>
    /// <param name="randomizer">Source of the jitter draw in [0, 1); tests pin it. <see cref="Random.Shared"/> by default.</param>
    public static ResiliencePipeline Build(
        TimeProvider time, Func<Exception, bool> handle, Action<ResilienceContext, int, TimeSpan, Exception>? onRetry = null,
        Func<double>? randomizer = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(handle);
        var random = randomizer ?? Random.Shared.NextDouble;
        return new ResiliencePipelineBuilder { Name = Name, TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                Name = Name,
                MaxRetryAttempts = ControlPlaneClient.MaxEventStreamRetries,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested && handle(e)),
                // Polly numbers retries from 0.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(args.AttemptNumber + 1, random())),
                OnRetry = args =>
                {
                    onRetry?.Invoke(args.Context, args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception!);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }
}
