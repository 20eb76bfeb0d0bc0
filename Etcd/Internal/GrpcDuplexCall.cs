using Google.Protobuf;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// One bidirectional gRPC stream (Watch or LeaseKeepAlive) on one endpoint. Writes are serialised (one writer
/// at a time); reads must come from one reader loop. Any failure is final: the owner opens a new call.
/// </summary>
internal sealed class GrpcDuplexCall : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly DuplexContent _content;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Stream? _requestStream;
    private HttpResponseMessage? _response;
    private GrpcMessageReader? _reader;
    private int _disposed;

    private GrpcDuplexCall(Uri endpoint, CancellationTokenSource cts, DuplexContent content)
    {
        Endpoint = endpoint;
        _cts = cts;
        _content = content;
    }

    /// <summary>The endpoint this stream is connected to.</summary>
    public Uri Endpoint { get; }

    /// <summary>
    /// Opens the stream: sends the request without awaiting it, writes <paramref name="first"/>, then waits
    /// for the response headers, which etcd sends only together with its first answer.
    /// </summary>
    public static async Task<GrpcDuplexCall> StartAsync(
        GrpcTransport transport, Uri endpoint, string path, string? token, bool requireLeader, IMessage first,
        TimeSpan openTimeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var content = new DuplexContent();
        var call = new GrpcDuplexCall(endpoint, cts, content);
        try
        {
            using var openTimer = new CancellationTokenSource(openTimeout, time);
            using var open = CancellationTokenSource.CreateLinkedTokenSource(openTimer.Token, cancellationToken);
            // Not disposed here: disposing the request disposes its content, which would end the stream.
            var request = transport.CreateRequest(endpoint, path, token, timeout: null, requireLeader);
            request.Content = content;
            // The stream lives until we cancel it; HttpMessageInvoker imposes no timeout of its own.
            var send = transport.Invoker.SendAsync(request, cts.Token);
            // If opening fails or times out, nobody awaits the send any more: observe its fault here.
            _ = send.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            var started = await Task.WhenAny(content.RequestStream, send).WaitAsync(open.Token).ConfigureAwait(false);
            if (started == send)
            {
                // The server answered before we sent anything: an error (trailers-only) or a refused connection.
                call._response = await send.ConfigureAwait(false);
                GrpcTransport.ThrowIfHttpFailed(call._response);
                GrpcTransport.ThrowIfTrailersOnlyError(call._response.Headers);
                throw new EtcdUnavailableException($"{path}: stream answered before the request was sent");
            }

            call._requestStream = await content.RequestStream.ConfigureAwait(false);
            await call.WriteAsync(first, open.Token).ConfigureAwait(false);

            call._response = await send.WaitAsync(open.Token).ConfigureAwait(false);
            GrpcTransport.ThrowIfHttpFailed(call._response);
            GrpcTransport.ThrowIfTrailersOnlyError(call._response.Headers);
            var body = await call._response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            call._reader = new GrpcMessageReader(body);
            return call;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await call.DisposeAsync().ConfigureAwait(false);
            throw new EtcdUnavailableException($"{path}: stream to {endpoint} did not open within {openTimeout.TotalSeconds:0.#} s", ex);
        }
        catch
        {
            await call.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes one message and flushes it, so it leaves immediately as a DATA frame.</summary>
    public async Task WriteAsync(IMessage message, CancellationToken cancellationToken)
    {
        var frame = GrpcFraming.Frame(message);
        var stream = _requestStream ?? throw new InvalidOperationException("stream not open");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
        await _writeLock.WaitAsync(linked.Token).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(frame, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads the next message. At the end of the stream throws the status the server ended with
    /// (etcd ends streams only on errors) or <see cref="EtcdUnavailableException"/> if it ended OK.</summary>
    public async Task<T> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var reader = _reader ?? throw new InvalidOperationException("stream not open");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
        var message = await reader.ReadAsync(parser, linked.Token).ConfigureAwait(false);
        if (message is not null)
        {
            return message;
        }

        GrpcTransport.ThrowIfNotOk(_response!);
        throw new EtcdUnavailableException($"{Endpoint}: stream closed by the server");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Cancelling resets the HTTP/2 stream (RST_STREAM), which tells etcd to drop its watchers at once.
        _content.Complete();
        await _cts.CancelAsync().ConfigureAwait(false);
        _response?.Dispose();
        // The semaphore is not disposed: a racing writer may still release it.
        _cts.Dispose();
    }
}
