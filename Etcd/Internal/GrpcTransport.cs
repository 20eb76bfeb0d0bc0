using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// gRPC over cleartext HTTP/2 with prior knowledge (or over TLS, HTTP/2 chosen by ALPN, when the options have
/// <see cref="EtcdClientOptions.Tls"/>), on one shared <see cref="SocketsHttpHandler"/>.
/// Knows nothing of endpoints' health, retries or auth: <see cref="EtcdClient"/> decides those and passes the
/// endpoint and token of each attempt.
/// </summary>
internal sealed class GrpcTransport : IDisposable
{
    private static readonly TimeSpan MinPingInterval = TimeSpan.FromSeconds(5);

    private readonly HttpMessageInvoker _invoker;
    private readonly ConcurrentDictionary<(Uri Endpoint, string Path), Uri> _uris = new();
    // The TLS server-name override: sent as the Host, which is what SocketsHttpHandler takes as the TLS target
    // host (SNI and the name the certificate must carry) instead of the URI's host. Null: the URI's host.
    private readonly string? _serverName;

    public GrpcTransport(EtcdClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // etcd allows unlimited concurrent streams, but a second connection helps when one is saturated
            // by a large watch backlog; the handler opens it only when the first is at its stream limit.
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.ConnectTimeout,
            // etcd's keepalive enforcement: no pings more often than every 5 s, and none without streams
            // (PermitWithoutStream=false), or it answers GOAWAY too_many_pings.
            KeepAlivePingDelay = options.KeepAliveInterval < MinPingInterval ? MinPingInterval : options.KeepAliveInterval,
            KeepAlivePingTimeout = options.KeepAliveTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (options.Tls is { } tls)
        {
            // Only the connection's set-up changes: requests are the same HTTP/2 requests on https URIs.
            handler.SslOptions = tls.ToSslOptions();
            _serverName = tls.ServerName;
        }

        _invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker => _invoker;

    /// <summary>Builds a gRPC request: POST, HTTP/2 exactly, te: trailers and the metadata headers.</summary>
    public HttpRequestMessage CreateRequest(Uri endpoint, string path, string? token, TimeSpan? timeout, bool requireLeader)
    {
        var uri = _uris.GetOrAdd((endpoint, path), static key => new Uri(key.Endpoint, key.Path));
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            // Cleartext HTTP/2 with prior knowledge (or HTTP/2 by ALPN over TLS): no upgrade dance, no fallback to HTTP/1.1.
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = request.Headers;
        if (_serverName is not null)
        {
            headers.Host = _serverName;
        }

        headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation("grpc-timeout", GrpcStatus.EncodeTimeout(t));
        }

        if (token is not null)
        {
            headers.TryAddWithoutValidation("token", token);
        }

        if (requireLeader)
        {
            // Makes a member that lost its leader cancel the stream instead of keeping it silently open.
            headers.TryAddWithoutValidation("hasleader", "true");
        }

        return request;
    }

    /// <summary>One unary call on one endpoint, no retry. Throws <see cref="EtcdException"/> for a non-OK
    /// grpc-status and lets transport failures (<see cref="HttpRequestException"/>, IO) through for the caller
    /// to classify.</summary>
    public async Task<TResponse> UnaryAsync<TResponse>(
        Uri endpoint, string path, IMessage request, MessageParser<TResponse> parser, string? token, TimeSpan timeout,
        CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        using var message = CreateRequest(endpoint, path, token, timeout, requireLeader: false);
        var content = new ByteArrayContent(GrpcFraming.Frame(request));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        message.Content = content;

        using var response = await _invoker.SendAsync(message, cancellationToken).ConfigureAwait(false);
        ThrowIfHttpFailed(response);

        // Reading to the end is what makes the trailers (grpc-status) available; unary bodies are small.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(response);
        if (body.Length < GrpcFraming.HeaderSize)
        {
            throw new EtcdException(GrpcStatusCode.Internal, $"{path}: OK status without a response message");
        }

        var length = GrpcFraming.ReadHeader(body);
        if (body.Length < GrpcFraming.HeaderSize + length)
        {
            throw new EtcdUnavailableException($"{path}: response message truncated");
        }

        return parser.ParseFrom(body, GrpcFraming.HeaderSize, length);
    }

    /// <summary>Maps a non-200 HTTP status to a gRPC code (grpc doc/http-grpc-status-mapping.md).</summary>
    public static void ThrowIfHttpFailed(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return;
        }

        var code = response.StatusCode switch
        {
            HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
            HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
            HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
            HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
            HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
                or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
            _ => GrpcStatusCode.Unknown,
        };
        throw EtcdException.FromStatus(code, $"HTTP status {(int)response.StatusCode} from {response.RequestMessage?.RequestUri}");
    }

    /// <summary>Throws the call's status unless it is OK (trailers, or headers for trailers-only responses).</summary>
    public static void ThrowIfNotOk(HttpResponseMessage response)
    {
        var status = GrpcStatus.Find(response.Headers, response.TrailingHeaders);
        if (status is null)
        {
            // A gRPC server always ends with a status; its absence means the stream was cut.
            throw new EtcdUnavailableException($"{response.RequestMessage?.RequestUri?.AbsolutePath}: response ended without grpc-status");
        }

        if (status.Value.Code != GrpcStatusCode.OK)
        {
            throw EtcdException.FromStatus(status.Value.Code, status.Value.Message);
        }
    }

    /// <summary>Throws if the headers already carry a non-OK status (trailers-only error response).</summary>
    public static void ThrowIfTrailersOnlyError(HttpResponseHeaders headers)
    {
        if (GrpcStatus.Find(headers, null) is { } status && status.Code != GrpcStatusCode.OK)
        {
            throw EtcdException.FromStatus(status.Code, status.Message);
        }
    }

    public void Dispose() => _invoker.Dispose();
}
