using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.UnitTests.Client;

/// <summary>One request as the fake directors saw it.</summary>
internal sealed record SeenRequest(HttpMethod Method, Uri Uri, string? IdempotencyKey, string? Authorization, string? LastEventId = null);

/// <summary>
/// The primary handler of a <see cref="ControlPlaneClient"/> under test: it answers each request with
/// <c>answer(request, n)</c> (n counts from 0), which may throw to play a director that cannot be reached. Directors
/// are told apart by port: <see cref="A"/>, <see cref="B"/>.
/// </summary>
internal sealed class ScriptedDirectors(Func<SeenRequest, int, HttpResponseMessage> answer) : HttpMessageHandler
{
    public static readonly Uri A = new("http://127.0.0.1:17001");
    public static readonly Uri B = new("http://127.0.0.1:17002");

    private readonly ConcurrentQueue<SeenRequest> _requests = new();
    private int _count;

    public IReadOnlyList<SeenRequest> Requests => [.. _requests];

    /// <summary>A client of directors A and B over this handler, on <paramref name="time"/> (the system clock when null).</summary>
    public ControlPlaneClient Client(Action<ControlPlaneClientOptions>? configure = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddControlPlaneClient(o =>
            {
                o.Directors.Add(A);
                o.Directors.Add(B);
                o.Token = "token-1";
                configure?.Invoke(o);
            })
            .ConfigurePrimaryHttpMessageHandler(() => this);
        // The provider lives as long as the test; the handler chain is disposed with the test process.
        return services.BuildServiceProvider().GetRequiredService<ControlPlaneClient>();
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var seen = new SeenRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null,
            request.Headers.Authorization?.ToString(),
            request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
        _requests.Enqueue(seen);
        var response = answer(seen, Interlocked.Increment(ref _count) - 1);
        response.RequestMessage = request;
        return Task.FromResult(response);
    }

    // Handlers are reused by the factory's chains; nothing to release here.
    protected override void Dispose(bool disposing)
    {
    }

    public static HttpResponseMessage Json<T>(HttpStatusCode status, T body) =>
        new(status) { Content = new ByteArrayContent(ContractJson.Serialize(body)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } } };

    public static HttpResponseMessage Problem(HttpStatusCode status, string title, string detail, int? retryAfterSeconds = null, object? extra = null)
    {
        var document = new Dictionary<string, object?> { ["title"] = title, ["detail"] = detail, ["status"] = (int)status };
        if (extra is not null)
        {
            foreach (var property in JsonSerializer.SerializeToElement(extra).EnumerateObject())
            {
                document[property.Name] = property.Value;
            }
        }

        var response = new HttpResponseMessage(status)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(document)) { Headers = { ContentType = new MediaTypeHeaderValue("application/problem+json") } },
        };
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        return response;
    }

    /// <summary>What a refused connection throws: the request provably never reached the director.</summary>
    public static HttpRequestException Refused() => new(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:17001)");

    /// <summary>What a connection broken after sending throws: the director may have received the request.</summary>
    public static HttpRequestException Broken() => new(HttpRequestError.ResponseEnded, "The response ended prematurely.");
}
