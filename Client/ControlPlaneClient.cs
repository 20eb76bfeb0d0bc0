using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ControlPlane.Client.Internal;
using ControlPlane.Contracts;

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

    internal ControlPlaneClient(HttpClient http, DirectorRotation directors, ControlPlaneClientOptions options, TimeProvider time, IDisposable? owned = null)
    {
        _http = http;
        _directors = directors;
        _options = options;
        _time = time;
        _owned = owned;
    }

    /// <summary>Disposes what <see cref="Create"/> made; for a client resolved from a container, nothing (the container
    /// owns the HTTP handlers).</summary>
    public void Dispose() => _owned?.Dispose();

    /// <summary>One call: sends it, maps an error answer to an exception, reads the body as <typeparamref name="T"/>.</summary>
    private async Task<T> SendAsync<T>(ApiCall call, CancellationToken cancellationToken)
        where T : class
    {
        var (body, director, status) = await SendRawAsync(call, cancellationToken).ConfigureAwait(false);
        try
        {
            return ContractJson.Deserialize<T>(body);
        }
        catch (JsonException e)
        {
            throw new ControlPlaneException($"{call}: the director at {director} answered {(int)status}, but not with a {typeof(T).Name}: {e.Message}", status, null, director, e);
        }
    }

    private async Task<(byte[] Body, Uri? Director, HttpStatusCode Status)> SendRawAsync(ApiCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(call.Method, new Uri(_directors.Preferred, call.Path));
        request.Options.Set(CallOptions.Path, call.Path);
        request.Options.Set(CallOptions.Repeatable, call.Repeatable);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (call.Json is not null)
        {
            request.Content = new ByteArrayContent(call.Json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } } };
        }

        if (call.IdempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", call.IdempotencyKey);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var director = response.RequestMessage?.Options.TryGetValue(CallOptions.Director, out var d) == true ? d : response.RequestMessage?.RequestUri;
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorMapper.ToException(call.ToString(), response, body, director);
        }

        return (body, director, response.StatusCode);
    }

    /// <summary>The wait between two reads of <see cref="WatchJobAsync"/>, on the injected clock (a poll interval, not a
    /// retry: failed calls are retried by the HTTP resilience handler).</summary>
    private Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, _time, cancellationToken);

    // Ids and names go into paths escaped, so a stray '/' or '?' cannot address another resource.
    private static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    private static string? Key(string? idempotencyKey)
    {
        if (idempotencyKey is null)
        {
            return null;
        }

        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return idempotencyKey.Length > Limits.MaxIdempotencyKeyLength
            ? throw new ArgumentException($"An Idempotency-Key is at most {Limits.MaxIdempotencyKeyLength} characters.", nameof(idempotencyKey))
            : idempotencyKey;
    }

    /// <summary>One call of the API, described: method, path under <c>/</c>, body, key, and whether it is repeatable.</summary>
    private sealed record ApiCall(HttpMethod Method, string Path, bool Repeatable)
    {
        public byte[]? Json { get; init; }

        public string? IdempotencyKey { get; init; }

        public override string ToString() => $"{Method} /{Path}";
    }
}
