using System.Net;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Request body of a bidirectional stream. HttpClient calls <see cref="SerializeToStreamAsync(Stream, TransportContext?)"/>
/// once and keeps the request stream open until that task completes; we hand the stream to
/// <see cref="GrpcDuplexCall"/> (the single writer) and complete when the call half-closes or ends.
/// </summary>
internal sealed class DuplexContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _requestStream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DuplexContent()
    {
        Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
    }

    /// <summary>Completes when HttpClient has started sending the body.</summary>
    public Task<Stream> RequestStream => _requestStream.Task;

    /// <summary>Ends the request body (half-close), or unblocks HttpClient when the call is torn down.</summary>
    public void Complete() => _completed.TrySetResult();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // Flush so the HEADERS frame leaves now; the server's answer may depend on our first message only.
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        _requestStream.TrySetResult(stream);
        await _completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        // Unknown length: the body is a stream of messages that ends when we say so.
        length = -1;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        Complete();
        base.Dispose(disposing);
    }
}
