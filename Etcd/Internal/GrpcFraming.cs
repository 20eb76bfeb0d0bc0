using System.Buffers.Binary;
using Google.Protobuf;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// gRPC length-prefixed messages (grpc doc/PROTOCOL-HTTP2.md): 1 byte compressed flag, 4 bytes big-endian length,
/// then the protobuf bytes. Message boundaries are independent of HTTP/2 DATA frames.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    /// <summary>Largest message accepted from a server; etcd's own limit is about 1.5 MiB per request, but
    /// ranges may answer with more, so allow generously while still refusing garbage lengths.</summary>
    public const int MaxMessageSize = 256 * 1024 * 1024;

    /// <summary>Serialises a message with its frame header into one array (one write per message).</summary>
    public static byte[] Frame(IMessage message)
    {
        var length = message.CalculateSize();
        var buffer = new byte[HeaderSize + length];
        WriteHeader(buffer, length);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    public static void WriteHeader(Span<byte> destination, int length)
    {
        destination[0] = 0; // never compressed: we do not negotiate grpc-encoding
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], length);
    }

    /// <summary>Reads a frame header; throws on compressed or oversized messages, which we never asked for.</summary>
    public static int ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header[0] != 0)
        {
            throw new EtcdException(GrpcStatusCode.Internal, "compressed gRPC message received although no grpc-encoding was negotiated");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        if (length is < 0 or > MaxMessageSize)
        {
            throw new EtcdException(GrpcStatusCode.ResourceExhausted, $"gRPC message of {length} bytes exceeds the limit of {MaxMessageSize}");
        }

        return length;
    }
}
