using System.Net.Http.Headers;

namespace ControlPlane.Cli.Http;

/// <summary>One call of the API, described rather than built, so it can be sent afresh to each director it is tried on
/// (an <see cref="HttpRequestMessage"/> can be sent only once).</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path and query relative to a director's base URL, e.g. <c>v1/jobs?state=Running</c>.</param>
internal sealed record ApiRequest(HttpMethod Method, string Path)
{
    /// <summary>JSON body, if any.</summary>
    public byte[]? Json { get; init; }

    /// <summary><c>Idempotency-Key</c> header, if any.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>True when the director acting on it twice does no harm (reads, cancel, drain, keyed submissions), so it
    /// may go to the next director after the previous one may have received it. See <see cref="ApiClient"/>'s failover.</summary>
    public bool Repeatable { get; init; }

    /// <summary>The message for the director at <paramref name="director"/> (its base URL, ending in '/').</summary>
    public HttpRequestMessage ToMessage(Uri director)
    {
        var message = new HttpRequestMessage(Method, new Uri(director, Path));
        if (Json is not null)
        {
            message.Content = new ByteArrayContent(Json)
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } },
            };
        }

        if (!string.IsNullOrEmpty(IdempotencyKey))
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", IdempotencyKey);
        }

        return message;
    }
}
