using System.Globalization;
using ControlPlane.Client;
using Polly;
using Polly.Retry;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// Retrying a submission the director refused with 429 (a pending-job limit is reached; nothing was created): wait
/// what <c>Retry-After</c> says, plus up to a quarter more so many refused clients do not come back in the same
/// second, and try again while the wait still ends within the time given. A Polly pipeline, like every retry here.
/// </summary>
/// <remarks>cpctl's own policy on top of ControlPlane.Client (whose retries cpctl turns off): bounded by the user's
/// <c>--retry-for</c> rather than a count, and saying on stderr what it waits for. Only 429 is retried: it is the one refusal that guarantees nothing was written. A 503 on a submission
/// without an <c>Idempotency-Key</c> may have created the job, so it is left to the user.</remarks>
internal static class BusyRetry
{
    /// <summary>Default of <c>--retry-for</c>.</summary>
    public const string DefaultRetryFor = "1m";

    /// <summary>Most retries whatever the time allows: a bound even if a director answered <c>Retry-After: 0</c>.</summary>
    public const int MaxRetries = 100;

    /// <summary>The wait when a 429 carries no usable <c>Retry-After</c> (a proxy's, say).</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(1);

    /// <summary>The value of <c>--retry-for</c>: a duration, <c>0</c> for never, the default when not given.</summary>
    /// <exception cref="UsageException">Not a duration.</exception>
    public static TimeSpan ParseRetryFor(string? text)
    {
        text ??= DefaultRetryFor;
        return text.Trim() == "0" ? TimeSpan.Zero : Parsing.Durations.Parse(text, "--retry-for");
    }

    /// <summary>A pipeline that retries 429 answers for at most <paramref name="retryFor"/> on <paramref name="environment"/>'s
    /// clock (<see cref="TimeSpan.Zero"/>: never), saying on stderr what it waits for.</summary>
    public static ResiliencePipeline Create(CliEnvironment environment, TimeSpan retryFor)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var time = environment.Time;
        var deadline = time.GetUtcNow() + retryFor;
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = MaxRetries,
                // Retried only when even the shortest wait ends in time: a retry that would outlive --retry-for is not started.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is ControlPlaneTooManyPendingException busy && time.GetUtcNow() + WaitFor(busy) <= deadline),
                DelayGenerator = args =>
                {
                    var wait = WaitFor((ControlPlaneTooManyPendingException)args.Outcome.Exception!) * (1 + (Random.Shared.NextDouble() / 4));
                    var left = deadline - time.GetUtcNow();
                    return ValueTask.FromResult<TimeSpan?>(wait < left ? wait : left);
                },
                OnRetry = async args =>
                {
                    var detail = ((ControlPlaneTooManyPendingException)args.Outcome.Exception!).Problem?.Detail is { } text ? $" ({FirstSentence(text)})" : "";
                    await environment.Error.WriteLineAsync(
                        $"director busy{detail}; retrying in {args.RetryDelay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (retry {args.AttemptNumber + 1}, giving up after {retryFor.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s)");
                },
            })
            .Build();
    }

    private static TimeSpan WaitFor(ControlPlaneTooManyPendingException busy) => busy.RetryAfter is { } after && after > TimeSpan.Zero ? after : DefaultWait;

    private static string FirstSentence(string text)
    {
        var end = text.IndexOf(": ", StringComparison.Ordinal);
        return end > 0 ? text[..end] : text;
    }
}
