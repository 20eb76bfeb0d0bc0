using Polly;
using Polly.Retry;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Every retry of the etcd client, one named Polly pipeline per purpose, on the client's
/// <see cref="TimeProvider"/> (fake in tests). Pauses are Polly's jittered exponential backoff (decorrelated
/// jitter: median <see cref="FirstDelay"/> doubling, never above <see cref="EtcdClientOptions.MaxReconnectDelay"/>),
/// so clients that failed together do not come back together. docs/etcd-client.md lists them.
/// </summary>
internal static class EtcdRetries
{
    /// <summary>Rounds over the endpoints, with a backoff between two rounds (<see cref="BuildCall"/>).</summary>
    public const string CallName = "etcd.call";

    /// <summary>The next endpoint at once, within a round.</summary>
    public const string FailoverName = "etcd.call.failover";

    /// <summary>The same call again at once with a renewed token, once per call.</summary>
    public const string ReauthenticateName = "etcd.call.reauthenticate";

    /// <summary>Re-opening the shared watch stream.</summary>
    public const string WatchResumeName = "etcd.watch.resume";

    /// <summary>Re-opening the shared keepalive stream.</summary>
    public const string KeepAliveName = "etcd.keepalive.reconnect";

    /// <summary>Rounds over the endpoints one unary call may make (within its <c>RequestTimeout</c>).</summary>
    public const int CallRounds = 3;

    /// <summary>The median first pause; later ones double (with jitter) up to the cap.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Where the call pipeline finds the call it is running.</summary>
    public static readonly ResiliencePropertyKey<UnaryAttempts> Attempts = new("etcd.call.attempts");

    /// <summary>
    /// <c>etcd.call</c>: one unary call. Within a round each endpoint is tried once, the next at once after a
    /// failure (<c>etcd.call.failover</c>); after a round in which every endpoint failed, a backoff pause; at most
    /// <see cref="CallRounds"/> rounds, all within the call's deadline (the token of the context). A token
    /// rejection repeats the attempt at once with a renewed token, once per call (<c>etcd.call.reauthenticate</c>).
    /// Which failures are repeated at all is the call's to say (<see cref="UnaryAttempts.IsRetryable"/>): a write
    /// whose outcome is unknown never is. The call is found in the context under <see cref="Attempts"/>.
    /// </summary>
    /// <param name="endpoints">Endpoints in a round.</param>
    /// <param name="maxDelay">Cap of a pause (<see cref="EtcdClientOptions.MaxReconnectDelay"/>).</param>
    /// <param name="time">Clock of the pauses.</param>
    /// <param name="randomizer">Source of jitter in [0, 1); tests pin it. Polly's by default.</param>
    public static ResiliencePipeline BuildCall(int endpoints, TimeSpan maxDelay, TimeProvider time, Func<double>? randomizer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(endpoints, 1);
        var builder = new ResiliencePipelineBuilder { Name = CallName, TimeProvider = time };
        builder.AddRetry(Backoff(CallName, maxDelay, CallRounds - 1, randomizer, RetryableFailure, OnFailover));
        if (endpoints > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                Name = FailoverName,
                BackoffType = DelayBackoffType.Constant,
                Delay = TimeSpan.Zero,
                MaxRetryAttempts = endpoints - 1,
                ShouldHandle = RetryableFailure,
                OnRetry = OnFailover,
            });
        }

        builder.AddRetry(new RetryStrategyOptions
        {
            Name = ReauthenticateName,
            BackoffType = DelayBackoffType.Constant,
            Delay = TimeSpan.Zero,
            MaxRetryAttempts = 1,
            ShouldHandle = args => ValueTask.FromResult(
                Live(args.Context, args.Outcome.Exception) is { } call && call.ShouldRenewToken(args.Outcome.Exception!)),
            OnRetry = args => args.Context.Properties.GetValue(Attempts, null!).RenewTokenAsync(args.Outcome.Exception!, args.Context.CancellationToken),
        });
        return builder.Build();
    }

    /// <summary>
    /// <c>etcd.watch.resume</c> and <c>etcd.keepalive.reconnect</c>: opening a stream again after it failed. Until
    /// the client is disposed (the token passed to <c>ExecuteAsync</c>): watches and kept-alive leases must come
    /// back whenever the cluster does. Every failure is retried; <see cref="RunStreamAsync"/> drives it.
    /// </summary>
    /// <param name="name">The pipeline's name.</param>
    /// <param name="maxDelay">Cap of a pause (<see cref="EtcdClientOptions.MaxReconnectDelay"/>).</param>
    /// <param name="time">Clock of the pauses.</param>
    /// <param name="onRetry">Called before each pause (logging); may be null.</param>
    /// <param name="randomizer">Source of jitter in [0, 1); tests pin it. Polly's by default.</param>
    public static ResiliencePipeline BuildStream(
        string name, TimeSpan maxDelay, TimeProvider time, Action<OnRetryArguments<object>>? onRetry = null, Func<double>? randomizer = null)
    {
        var options = Backoff(name, maxDelay, int.MaxValue, randomizer,
            args => ValueTask.FromResult(args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested),
            args =>
            {
                onRetry?.Invoke(args);
                return ValueTask.CompletedTask;
            });
        return new ResiliencePipelineBuilder { Name = name, TimeProvider = time }.AddRetry(options).Build();
    }

    /// <summary>
    /// The life of a shared stream until <paramref name="stopping"/>: each execution of <paramref name="pipeline"/>
    /// is one outage. Its first attempt is the break of the stream before (none at the start), each further
    /// attempt one call of <paramref name="stream"/>, which opens a stream and reads it until it breaks: it throws
    /// when the stream could not open or broke before the server answered anything (Polly then pauses, longer each
    /// time), and returns the break of a stream that was answered, which ends the outage: the next one starts again
    /// from the first pause, so a stream that delivered is re-opened after one short jittered pause and a stream
    /// that keeps breaking right after its first answer cannot spin. <paramref name="stream"/> returns null when
    /// there is nothing to stream; the loop then waits on <paramref name="idle"/>.
    /// </summary>
    public static async Task RunStreamAsync(
        ResiliencePipeline pipeline, Func<CancellationToken, ValueTask<Exception?>> stream, Func<CancellationToken, Task> idle,
        CancellationToken stopping)
    {
        Exception? broke = null;
        while (!stopping.IsCancellationRequested)
        {
            var outage = broke;
            try
            {
                broke = await pipeline.ExecuteAsync(async ct =>
                {
                    if (outage is not null)
                    {
                        var first = new StreamBrokenException(outage);
                        outage = null;
                        throw first;
                    }

                    return await stream(ct).ConfigureAwait(false);
                }, stopping).ConfigureAwait(false);
                if (broke is null)
                {
                    await idle(stopping).ConfigureAwait(false);
                }
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // Disposed, possibly while a failed attempt was being looked at.
                return;
            }
        }
    }

    private static RetryStrategyOptions Backoff(
        string name, TimeSpan maxDelay, int retries, Func<double>? randomizer,
        Func<RetryPredicateArguments<object>, ValueTask<bool>> handle, Func<OnRetryArguments<object>, ValueTask> onRetry)
    {
        var options = new RetryStrategyOptions
        {
            Name = name,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstDelay < maxDelay ? FirstDelay : maxDelay,
            MaxDelay = maxDelay,
            MaxRetryAttempts = retries,
            ShouldHandle = handle,
            OnRetry = onRetry,
        };
        if (randomizer is not null)
        {
            options.Randomizer = randomizer;
        }

        return options;
    }

    private static ValueTask<bool> RetryableFailure(RetryPredicateArguments<object> args) =>
        ValueTask.FromResult(Live(args.Context, args.Outcome.Exception) is { } call && call.IsRetryable(args.Outcome.Exception!));

    private static ValueTask OnFailover(OnRetryArguments<object> args)
    {
        args.Context.Properties.GetValue(Attempts, null!).OnFailover(args.Outcome.Exception!, args.AttemptNumber, args.RetryDelay);
        return ValueTask.CompletedTask;
    }

    /// <summary>The call, when <paramref name="failure"/> is a failure and the call's deadline has not passed.</summary>
    private static UnaryAttempts? Live(ResilienceContext context, Exception? failure) =>
        failure is not null && !context.CancellationToken.IsCancellationRequested
            && context.Properties.TryGetValue(Attempts, out var call) ? call : null;
}

/// <summary>
/// One unary call as the call pipeline sees it (<see cref="EtcdRetries.BuildCall"/>): which failures it may
/// repeat, and what to do before the next attempt.
/// </summary>
/// <param name="idempotent">A read (repeatable after any transport failure), or a write (only when provably not sent).</param>
/// <param name="canReauthenticate">Whether the client has credentials to renew a rejected token with.</param>
internal abstract class UnaryAttempts(bool idempotent, bool canReauthenticate)
{
    private int _renewed;

    /// <summary>Whether the call is a read.</summary>
    public bool Idempotent => idempotent;

    /// <summary>Whether a failed attempt may be repeated, on this endpoint or the next: an attempt that got no
    /// answer within its share of the budget, a request provably never sent, or a read after a transport
    /// failure or Unavailable. Never a write that may have reached a member.</summary>
    public bool IsRetryable(Exception failure) => failure is AttemptTimeoutException || EtcdClient.IsRetryable(failure, idempotent);

    /// <summary>Whether etcd rejected the token and it has not been renewed in this call yet. etcd checks the
    /// token before applying anything, so even a write is safe to repeat.</summary>
    public bool ShouldRenewToken(Exception failure) =>
        canReauthenticate && Volatile.Read(ref _renewed) == 0 && failure is EtcdAuthenticationException rejected
        && EtcdClient.IsTokenRejection(rejected);

    /// <summary>Renews the token before the attempt is repeated (once per call).</summary>
    public ValueTask RenewTokenAsync(Exception rejection, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _renewed, 1);
        return RenewAsync(rejection, cancellationToken);
    }

    /// <summary>A retryable failure: the endpoint of the attempt is marked failed before the next one.</summary>
    /// <param name="failure">Why the attempt failed.</param>
    /// <param name="retry">The retry's number within its strategy (0 for the first).</param>
    /// <param name="delay">The pause before the next attempt (zero within a round).</param>
    public abstract void OnFailover(Exception failure, int retry, TimeSpan delay);

    /// <summary>Fetches a new token in place of the one the attempt was refused with.</summary>
    protected abstract ValueTask RenewAsync(Exception rejection, CancellationToken cancellationToken);
}

/// <summary>An attempt of a read got no answer within its share of the call's budget (a black-holed member).</summary>
internal sealed class AttemptTimeoutException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>The stream that ended an outage's predecessor broke: the outage's first failed attempt.</summary>
internal sealed class StreamBrokenException(Exception reason) : Exception("the stream broke: " + reason.Message, reason);
