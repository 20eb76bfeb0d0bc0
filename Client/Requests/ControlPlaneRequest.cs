using System.Net.Http.Headers;

namespace ControlPlane.Client;

/// <summary>
/// One call of the director API, described rather than sent: method, path, body, <c>Idempotency-Key</c>, and whether a
/// director acting on it twice does no harm (which decides failover and retries, see <see cref="ControlPlaneClient"/>).
/// Made by the factories of <see cref="ControlPlaneRequest"/> and sent with <see cref="ControlPlaneClient.SendAsync{T}"/>;
/// the typed methods of <see cref="ControlPlaneClient"/> are those two steps in one.
/// </summary>
/// <typeparam name="T">The contract record the answer's body is read as.</typeparam>
public sealed class ControlPlaneRequest<T>
    where T : class
{
    internal ControlPlaneRequest(HttpMethod method, string path, bool repeatable, byte[]? json = null, string? idempotencyKey = null)
    {
        Method = method;
        Path = path;
        Repeatable = repeatable;
        Json = json;
        IdempotencyKey = idempotencyKey;
    }

    /// <summary>The HTTP method.</summary>
    public HttpMethod Method { get; }

    /// <summary>Path and query relative to a director's base URL, e.g. <c>v1/jobs?state=Running</c>.</summary>
    public string Path { get; }

    /// <summary>True when the call may be sent again after a director may have received it.</summary>
    public bool Repeatable { get; }

    /// <summary>The <c>Idempotency-Key</c> header, or null.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>The JSON body, or null.</summary>
    internal byte[]? Json { get; }

    /// <summary>E.g. <c>POST /v1/jobs</c>: how the call is named in messages.</summary>
    public override string ToString() => $"{Method} /{Path}";

    /// <summary>The message for one send (an <see cref="HttpRequestMessage"/> can be sent only once).</summary>
    internal HttpRequestMessage ToMessage(Uri director, string accept)
    {
        var message = new HttpRequestMessage(Method, new Uri(director, Path));
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        if (Json is not null)
        {
            message.Content = new ByteArrayContent(Json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } } };
        }

        if (IdempotencyKey is not null)
        {
            message.Headers.TryAddWithoutValidation("Idempotency-Key", IdempotencyKey);
        }

        return message;
    }
}
