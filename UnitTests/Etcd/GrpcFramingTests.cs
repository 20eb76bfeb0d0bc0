using ControlPlane.Etcd;
using ControlPlane.Etcd.Internal;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.UnitTests.Etcd;

public class GrpcFramingTests
{
    [Fact]
    public void Frame_prefixes_an_uncompressed_flag_and_the_big_endian_length()
    {
        var message = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFrom(new byte[300]) };

        var frame = GrpcFraming.Frame(message);

        var length = message.CalculateSize();
        Assert.Equal(0, frame[0]);
        Assert.Equal(new[] { (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length }, frame[1..5]);
        Assert.Equal(message, PutRequest.Parser.ParseFrom(frame.AsSpan(5).ToArray()));
    }

    [Fact]
    public async Task Reader_returns_consecutive_messages_split_across_tiny_reads_then_null_at_a_clean_end()
    {
        var first = new RangeRequest { Key = ByteString.CopyFromUtf8("a"), Limit = 3 };
        var second = new RangeRequest { Key = ByteString.CopyFrom(new byte[10_000]) };
        var bytes = GrpcFraming.Frame(first).Concat(GrpcFraming.Frame(second)).ToArray();
        var reader = new GrpcMessageReader(new TrickleStream(bytes, chunk: 3));

        Assert.Equal(first, await reader.ReadAsync(RangeRequest.Parser, CancellationToken.None));
        Assert.Equal(second, await reader.ReadAsync(RangeRequest.Parser, CancellationToken.None));
        Assert.Null(await reader.ReadAsync(RangeRequest.Parser, CancellationToken.None));
    }

    [Fact]
    public async Task Reader_reports_a_body_cut_inside_a_message_as_unavailable()
    {
        var frame = GrpcFraming.Frame(new RangeRequest { Key = ByteString.CopyFromUtf8("abcdef") });
        var reader = new GrpcMessageReader(new MemoryStream(frame[..^2]));

        await Assert.ThrowsAsync<EtcdUnavailableException>(() => reader.ReadAsync(RangeRequest.Parser, CancellationToken.None).AsTask());
    }

    [Fact]
    public void ReadHeader_refuses_compressed_messages_and_absurd_lengths()
    {
        Assert.Throws<EtcdException>(() => GrpcFraming.ReadHeader(new byte[] { 1, 0, 0, 0, 1 }));
        var tooLarge = Assert.Throws<EtcdException>(() => GrpcFraming.ReadHeader(new byte[] { 0, 0x7F, 0xFF, 0xFF, 0xFF }));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, tooLarge.StatusCode);
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, like DATA frames that split messages anywhere.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }
}
