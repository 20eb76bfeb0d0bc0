using Polly;
using Polly.Retry;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>
/// Every retry of the ZooKeeper client, one named Polly pipeline per purpose, on the client's
/// <see cref="TimeProvider"/> (<see cref="ZooKeeperClientOptions.TimeProvider"/>, fake in tests). Pauses are
/// Polly's jittered exponential backoff (decorrelated jitter: median <see cref="FirstDelay"/>, doubling, never above
/// <see cref="ZooKeeperClientOptions.MaxReconnectDelay"/>), so a fleet of clients cut off together does not come
/// back together. Neither pipeline counts attempts: each is bounded in time by its caller's token (the connect
/// budget, the session's expiry). docs/zookeeper-client.md lists them.
/// </summary>
internal static class ZooKeeperRetries
{
    /// <summary>Rounds over the servers when opening the session.</summary>
    public const string ConnectName = "zookeeper.connect";

    /// <summary>The next server at once, within a round.</summary>
    public const string FailoverName = "zookeeper.connect.failover";

    /// <summary>Resuming the session after its connection broke.</summary>
    public const string ReconnectName = "zookeeper.reconnect";

    /// <summary>The median first pause; later ones double (with jitter) up to the cap.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// <c>zookeeper.connect</c>: opening the session. Within a round each server is tried once, the next at once
    /// after a failure (<c>zookeeper.connect.failover</c>); after a round in which every server failed, a pause.
    /// Until the token passed to <c>ExecuteAsync</c> fires (the <see cref="ZooKeeperClientOptions.ConnectTimeout"/>
    /// budget, or the caller). Every failure is retried.
    /// </summary>
    /// <param name="hosts">Servers in a round.</param>
    /// <param name="maxDelay">Cap of a pause.</param>
    /// <param name="time">Clock of the pauses.</param>
    /// <param name="onRetry">Called before each retry, with its pause (tests); may be null.</param>
    /// <param name="randomizer">Source of jitter in [0, 1); tests pin it. Polly's by default.</param>
    public static ResiliencePipeline BuildConnect(
        int hosts, TimeSpan maxDelay, TimeProvider time, Action<OnRetryArguments<object>>? onRetry = null, Func<double>? randomizer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hosts, 1);
        var builder = new ResiliencePipelineBuilder { Name = ConnectName, TimeProvider = time }
            .AddRetry(Backoff(ConnectName, maxDelay, onRetry, randomizer, firstAtOnce: false));
        if (hosts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                Name = FailoverName,
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                MaxRetryAttempts = hosts - 1,
                ShouldHandle = Failure,
                OnRetry = Report(onRetry),
            });
        }

        return builder.Build();
    }

    /// <summary>
    /// <c>zookeeper.reconnect</c>: resuming the session on the next server after its connection broke. The first
    /// retry is at once (another server is likely fine), later ones pause. Until the token passed to
    /// <c>ExecuteAsync</c> fires: the client closing, or the session's give-up time
    /// (<see cref="SessionExpiry"/>). Every failure is retried.
    /// </summary>
    /// <param name="maxDelay">Cap of a pause.</param>
    /// <param name="time">Clock of the pauses.</param>
    /// <param name="onRetry">Called before each retry, with its pause (tests); may be null.</param>
    /// <param name="randomizer">Source of jitter in [0, 1); tests pin it. Polly's by default.</param>
    public static ResiliencePipeline BuildReconnect(
        TimeSpan maxDelay, TimeProvider time, Action<OnRetryArguments<object>>? onRetry = null, Func<double>? randomizer = null) =>
        new ResiliencePipelineBuilder { Name = ReconnectName, TimeProvider = time }
            .AddRetry(Backoff(ReconnectName, maxDelay, onRetry, randomizer, firstAtOnce: true))
            .Build();

    private static Func<OnRetryArguments<object>, ValueTask>? Report(Action<OnRetryArguments<object>>? onRetry) =>
        onRetry is null
            ? null
            : args =>
            {
                onRetry(args);
                return ValueTask.CompletedTask;
            };

    private static RetryStrategyOptions Backoff(
        string name, TimeSpan maxDelay, Action<OnRetryArguments<object>>? onRetry, Func<double>? randomizer, bool firstAtOnce)
    {
        var options = new RetryStrategyOptions
        {
            Name = name,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstDelay < maxDelay ? FirstDelay : maxDelay,
            MaxDelay = maxDelay,
            MaxRetryAttempts = int.MaxValue,
            ShouldHandle = Failure,
            OnRetry = Report(onRetry),
        };
        if (firstAtOnce)
        {
            // Null: Polly's own backoff for that retry.
            options.DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.AttemptNumber == 0 ? TimeSpan.Zero : null);
        }

        if (randomizer is not null)
        {
            options.Randomizer = randomizer;
        }

        return options;
    }

    /// <summary>Any failure while the caller's token has not fired.</summary>
    private static ValueTask<bool> Failure(RetryPredicateArguments<object> args) =>
        ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested);
}
