using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ControlPlane.Client.Internal;

/// <summary>
/// When a whole failover walk is tried again, and after how long: the client's one retry strategy, a
/// <see cref="HttpRetryStrategyOptions"/> run by the resilience handler above <see cref="FailoverHandler"/>.
/// </summary>
/// <remarks>
/// Retried: a 429 answer to any call (the director guarantees a refused submission created nothing); a 502/503/504
/// answer to a repeatable call (a 503 to an unkeyed submission may mean the job exists); no director reachable, for a
/// repeatable call or one that provably reached none. Waits are the director's <c>Retry-After</c> plus up to a quarter
/// more (so refused clients do not return in the same second), or an exponential backoff with jitter when it sent
/// none. A <c>Retry-After</c> longer than <see cref="ControlPlaneClientOptions.MaxRetryAfter"/> is not waited out: the
/// caller gets the answer at once and decides.
/// </remarks>
internal static class RetryRules
{
    public static HttpRetryStrategyOptions Create(ControlPlaneClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var maxRetryAfter = options.MaxRetryAfter;
        return new HttpRetryStrategyOptions
        {
            Name = "ControlPlane.Retry",
            MaxRetryAttempts = Math.Max(1, options.MaxRetryAttempts),
            Delay = options.RetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldRetryAfterHeader = false,
            ShouldHandle = args => ValueTask.FromResult(options.MaxRetryAttempts > 0 && ShouldRetry(args.Outcome, RequestOf(args.Context, args.Outcome), maxRetryAfter)),
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response && RetryAfterOf(response) is { } after
                ? after * (1 + (Random.Shared.NextDouble() / 4))
                : (TimeSpan?)null),
        };
    }

    /// <summary>The rule of the remarks above, for one outcome of one walk over the directors.</summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request, TimeSpan maxRetryAfter)
    {
        var repeatable = CallOptions.IsRepeatable(request);
        if (outcome.Exception is ControlPlaneUnreachableException unreachable)
        {
            return repeatable || !unreachable.MayHaveReachedDirector;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        var waitable = RetryAfterOf(response) is not { } after || after <= maxRetryAfter;
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => waitable,
            HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => repeatable && waitable,
            _ => false,
        };
    }

    /// <summary><c>Retry-After</c> as a delay: seconds, or an HTTP date against the answer's own <c>Date</c> (so the two
    /// clocks need not agree); null when absent.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - (response.Headers.Date ?? DateTimeOffset.UtcNow),
            _ => (TimeSpan?)null,
        };
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    private static HttpRequestMessage? RequestOf(ResilienceContext context, Outcome<HttpResponseMessage> outcome) =>
        context.GetRequestMessage() ?? outcome.Result?.RequestMessage;
}
