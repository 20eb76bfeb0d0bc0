using Google.Protobuf;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Reads length-prefixed gRPC messages from a response body. Owns a reusable buffer, so a long-lived stream
/// (watch, keepalive) allocates only for the parsed messages. Not thread-safe: one reader per body.
/// </summary>
internal sealed class GrpcMessageReader(Stream body)
{
    private byte[] _buffer = new byte[4096];

    /// <summary>Returns the next message, or null when the body ended cleanly between messages.</summary>
    public async ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        if (!await FillAsync(GrpcFraming.HeaderSize, allowEof: true, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var length = GrpcFraming.ReadHeader(_buffer);
        if (_buffer.Length < length)
        {
            // Grow to the next power of two so a stream of similar messages settles on one buffer.
            _buffer = new byte[Math.Max(length, (int)Math.Min(GrpcFraming.MaxMessageSize, (long)_buffer.Length * 2))];
        }

        await FillAsync(length, allowEof: false, cancellationToken).ConfigureAwait(false);
        return parser.ParseFrom(_buffer, 0, length);
    }

    private async ValueTask<bool> FillAsync(int count, bool allowEof, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < count)
        {
            var n = await body.ReadAsync(_buffer.AsMemory(read, count - read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0 && allowEof)
                {
                    return false;
                }

                // A body cut inside a message means the stream broke, not that the server finished.
                throw new EtcdUnavailableException("gRPC response ended in the middle of a message");
            }

            read += n;
        }

        return true;
    }
}
