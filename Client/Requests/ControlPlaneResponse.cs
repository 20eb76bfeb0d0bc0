using System.Net;

namespace ControlPlane.Client;

/// <summary>
/// A successful answer to a <see cref="ControlPlaneRequest{T}"/>, as <see cref="ControlPlaneClient.SendAsync{T}"/> returns
/// it: the value, and what the typed methods leave out (the status, the director that answered, the store revision and
/// the body exactly as sent), for callers that print the API's own JSON or tell a replay from a new resource.
/// </summary>
/// <typeparam name="T">The body's contract record; <see cref="ControlPlaneNoContent"/> for calls that answer without one.</typeparam>
public sealed class ControlPlaneResponse<T>
    where T : class
{
    private readonly Func<ReadOnlyMemory<byte>, T> _read;
    private T? _value;

    internal ControlPlaneResponse(HttpStatusCode statusCode, Uri director, long? revision, ReadOnlyMemory<byte> content, Func<ReadOnlyMemory<byte>, T> read)
    {
        StatusCode = statusCode;
        Director = director;
        Revision = revision;
        Content = content;
        _read = read;
    }

    /// <summary>The body read as <typeparamref name="T"/>, on first use (a caller that only needs <see cref="Content"/>
    /// or the status never reads it; the typed methods of <see cref="ControlPlaneClient"/> always do).</summary>
    /// <exception cref="ControlPlaneException">The body is not a <typeparamref name="T"/> (a proxy's page, an empty body).</exception>
    public T Value => _value ??= _read(Content);

    /// <summary>The HTTP status, e.g. 201 for a new job and 200 for one an Idempotency-Key replayed.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The director that answered (after failover, not necessarily the first one).</summary>
    public Uri Director { get; }

    /// <summary>The answer's <c>X-Revision</c> header (the store revision it reflects); null when absent.</summary>
    public long? Revision { get; }

    /// <summary>The body as sent, byte for byte (empty when there was none): fields this client does not know included.</summary>
    public ReadOnlyMemory<byte> Content { get; }
}

/// <summary>The value of a call that answers without a body (drain, undrain, delete): there is nothing to read.</summary>
public sealed class ControlPlaneNoContent
{
    private ControlPlaneNoContent()
    {
    }

    /// <summary>The one instance.</summary>
    public static ControlPlaneNoContent Instance { get; } = new();
}
