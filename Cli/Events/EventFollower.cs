using System.Globalization;
using System.Net;
using ControlPlane.Cli.Http;
using Polly;
using Polly.Retry;

namespace ControlPlane.Cli.Events;

/// <summary>What a consumer of <see cref="EventFollower"/> says after each event.</summary>
internal enum FollowDecision
{
    /// <summary>Keep reading.</summary>
    Continue,

    /// <summary>Done: stop following.</summary>
    Stop,
}

/// <summary>
/// Follows <c>GET /v1/events</c> across directors and connection losses: a stream that ends (the director stopped, cut
/// off a slow reader, the connection broke) is opened again with <c>Last-Event-ID</c> on the next director that serves
/// it, so nothing the store still holds is missed. Opening is retried by a Polly pipeline (<see cref="MaxRetries"/>
/// attempts, exponential from <see cref="FirstDelay"/> to <see cref="MaxDelay"/> with jitter), which starts afresh after
/// every stream that delivered something; a stream that keeps failing ends the follow with the last error.
/// </summary>
internal sealed class EventFollower(CommandContext context, string query)
{
    /// <summary>Attempts to open a stream again in a row before giving up.</summary>
    public const int MaxRetries = 8;

    /// <summary>The first wait before opening again.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait before opening again.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    /// <summary>Most streams one follow opens: a bound even for a director that ends every stream after one event.</summary>
    public const int MaxStreams = 100_000;

    /// <summary>The id of the last event received, the resume point.</summary>
    public long? LastEventId { get; private set; }

    /// <summary>
    /// Reads events from <paramref name="since"/> (null: from now) and passes each to <paramref name="onEvent"/> until it
    /// says <see cref="FollowDecision.Stop"/> or <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <exception cref="ApiException">A director refused the stream (e.g. 400 for a bad filter), or none could serve it.</exception>
    /// <exception cref="DirectorsUnreachableException">No director could be reached, <see cref="MaxRetries"/> times in a row.</exception>
    /// <exception cref="EventStreamUnavailableException">A director answered, but not with an event stream.</exception>
    public async Task FollowAsync(long? since, Func<StreamedEvent, ValueTask<FollowDecision>> onEvent, CancellationToken cancellationToken)
    {
        LastEventId = since;
        var pipeline = CreateReconnect();
        for (var streams = 0; streams < MaxStreams; streams++)
        {
            // One round: open (retried by the pipeline) and read until the stream ends. A round that delivered nothing
            // counts as a failure of the pipeline; one that delivered is a success, and the next round starts afresh.
            var stop = await pipeline.ExecuteAsync(async ct => await ReadOneStreamAsync(onEvent, ct), cancellationToken);
            if (stop)
            {
                return;
            }
        }

        throw new IOException($"the event stream ended {MaxStreams} times; giving up");
    }

    private async ValueTask<bool> ReadOneStreamAsync(Func<StreamedEvent, ValueTask<FollowDecision>> onEvent, CancellationToken cancellationToken)
    {
        using var stream = await context.Api.OpenEventsAsync(query, LastEventId, cancellationToken);
        var delivered = false;
        try
        {
            while (await stream.NextAsync(cancellationToken) is { } e)
            {
                if (e.Type == "cutoff")
                {
                    // The director ended the stream on purpose (too slow, stopping): say why and resume.
                    var reason = e.Json?["reason"]?.GetValue<string>() ?? "no reason given";
                    await context.Error.WriteLineAsync($"stream from {stream.Director} cut off: {reason}; resuming");
                    break;
                }

                delivered = true;
                if (e.Id is { } id)
                {
                    LastEventId = id;
                }

                if (await onEvent(e) == FollowDecision.Stop)
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            if (!delivered)
            {
                throw;
            }
        }

        if (!delivered)
        {
            throw new StreamEndedException($"the event stream from {stream.Director} ended before any event");
        }

        return false;
    }

    private ResiliencePipeline CreateReconnect() => new ResiliencePipelineBuilder { TimeProvider = context.Environment.Time }
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstDelay,
            MaxDelay = MaxDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is StreamEndedException or DirectorsUnreachableException
                or IOException or HttpRequestException
                or ApiException { Status: HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout }),
            OnRetry = async args => await context.Error.WriteLineAsync(
                $"event stream: {args.Outcome.Exception!.Message}; opening again in {args.RetryDelay.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (retry {args.AttemptNumber + 1} of {MaxRetries})"),
        })
        .Build();

    /// <summary>A stream ended without delivering anything.</summary>
    private sealed class StreamEndedException(string message) : IOException(message);
}
