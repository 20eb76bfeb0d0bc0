using System.Globalization;
using System.Text.Json;
using ControlPlane.Client.Internal;
using ControlPlane.Contracts;
using Polly;

namespace ControlPlane.Client;

/// <summary>
/// Typed client of the director REST API (<c>/v1</c>): jobs, workers, schedules, leader, cluster, doctor. Thread-safe;
/// resolve it from <see cref="ControlPlaneClientServiceCollectionExtensions.AddControlPlaneClient"/> or make one with
/// <see cref="Create"/>. Error answers become exceptions derived from <see cref="ControlPlaneException"/>.
/// </summary>
/// <remarks>
/// <para><b>Which calls are sent twice.</b> A call is <i>repeatable</i> when a director acting on it twice does no harm:
/// every read, cancel, drain, pause, resume, replace, delete, and a submission or schedule creation <i>with an
/// Idempotency-Key</i> (the director answers a repeat with the same job). An unkeyed submission and a schedule trigger are
/// not: each one a director receives creates a job.</para>
/// <para><b>Failover.</b> A call goes to the directors of <see cref="ControlPlaneClientOptions.Directors"/> in turn,
/// starting with the one that answered last. It moves on to the next director always when the connection could not even
/// be made (the director never got it); when the director may have got it (the connection broke, no answer within
/// <see cref="ControlPlaneClientOptions.AttemptTimeout"/>, or it answered 502/503/504) only if the call is repeatable. A
/// non-repeatable call stops there with <see cref="ControlPlaneUnreachableException"/>
/// (<see cref="ControlPlaneUnreachableException.MayHaveReachedDirector"/> true): a second director could create the job a
/// second time. This is the rule cpctl follows.</para>
/// <para><b>Retries</b> (Microsoft.Extensions.Http.Resilience), after every director was tried: a 429 for any call (a
/// refused submission created nothing), a 502/503/504 for a repeatable call, and no director reachable for a repeatable
/// call or one that provably reached none; up to <see cref="ControlPlaneClientOptions.MaxRetryAttempts"/> times, waiting
/// what <c>Retry-After</c> says (up to <see cref="ControlPlaneClientOptions.MaxRetryAfter"/>) or a jittered backoff.</para>
/// <para><b>Always pass an Idempotency-Key</b> to <see cref="SubmitJobAsync"/> and <see cref="CreateScheduleAsync"/> in
/// programs: it is what makes a call whose answer was lost safe to send again, by this client or by you.</para>
/// </remarks>
public sealed partial class ControlPlaneClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly DirectorRotation _directors;
    private readonly ControlPlaneClientOptions _options;
    private readonly TimeProvider _time;
    private readonly IDisposable? _owned;
    private readonly ResiliencePipeline _eventStreamRetries;

    internal ControlPlaneClient(HttpClient http, DirectorRotation directors, ControlPlaneClientOptions options, TimeProvider time, IDisposable? owned = null)
    {
        _http = http;
        _directors = directors;
        _options = options;
        _time = time;
        _owned = owned;
        _eventStreamRetries = EventStreamRetries.Build(time, IsTransient, OnEventStreamRetry);
    }

    /// <summary>Disposes what <see cref="Create"/> made; for a client resolved from a container, nothing (the container
    /// owns the HTTP handlers).</summary>
    public void Dispose() => _owned?.Dispose();

    /// <summary>
    /// Sends <paramref name="request"/> (made by a factory of <see cref="ControlPlaneRequest"/>) under the same failover,
    /// retry and error rules as the typed methods, and returns the answer with its status, director, revision and body
    /// as sent. For callers that need more than the value: printing the API's own JSON, telling a replayed submission
    /// (200) from a new one (201).
    /// </summary>
    /// <exception cref="ControlPlaneException">An error answer, as for the typed method of the same call. (A success
    /// whose body is not a <typeparamref name="T"/> throws when <see cref="ControlPlaneResponse{T}.Value"/> is read.)</exception>
    /// <exception cref="ControlPlaneUnreachableException">No director answered.</exception>
    public async Task<ControlPlaneResponse<T>> SendAsync<T>(ControlPlaneRequest<T> request, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = request.ToMessage(_directors.Preferred, "application/json");
        Mark(message, request.Path, request.Repeatable);
        using var response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var director = DirectorOf(response);
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorMapper.ToException(request.ToString(), response, body, director);
        }

        var status = response.StatusCode;
        return new ControlPlaneResponse<T>(status, director, RevisionOf(response), body, content =>
        {
            if (typeof(T) == typeof(ControlPlaneNoContent))
            {
                return (T)(object)ControlPlaneNoContent.Instance;
            }

            try
            {
                return ContractJson.Deserialize<T>(content.Span);
            }
            catch (JsonException e)
            {
                throw new ControlPlaneException($"{request}: the director at {director} answered {(int)status}, but not with a {typeof(T).Name}: {e.Message}", status, null, director, e);
            }
        });
    }

    /// <summary>One call, its value only: what every typed method returns.</summary>
    private async Task<T> ValueAsync<T>(ControlPlaneRequest<T> request, CancellationToken cancellationToken)
        where T : class => (await SendAsync(request, cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>What the failover handler needs to know about a message: its path and whether it may be sent twice.</summary>
    private static void Mark(HttpRequestMessage message, string path, bool repeatable)
    {
        message.Options.Set(CallOptions.Path, path);
        message.Options.Set(CallOptions.Repeatable, repeatable);
    }

    /// <summary>The director that answered, as the failover handler recorded it.</summary>
    private Uri DirectorOf(HttpResponseMessage response) =>
        response.RequestMessage?.Options.TryGetValue(CallOptions.Director, out var d) == true ? d : response.RequestMessage?.RequestUri ?? _directors.Preferred;

    private static long? RevisionOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Revision", out var values) &&
        long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var revision) ? revision : null;

    /// <summary>The wait between two reads of <see cref="WatchJobAsync"/>, on the injected clock.</summary>
    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        // Not a retry: a poll interval (failed calls are retried by the HTTP resilience handler).
        Task.Delay(delay, _time, cancellationToken);
}
