using System.Buffers;
using System.Buffers.Binary;
using ControlPlane.ZooKeeper;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

public class JuteEncodingTests
{
    [Fact]
    public void Primitives_round_trip_big_endian_behind_a_length_prefix()
    {
        var writer = new JuteWriter(8);
        writer.WriteInt(-5);
        writer.WriteLong(0x0102030405060708);
        writer.WriteBool(true);
        writer.WriteBool(false);
        var (buffer, length) = writer.Complete();
        try
        {
            Assert.Equal(4 + 4 + 8 + 2, length);
            Assert.Equal(length - 4, BinaryPrimitives.ReadInt32BigEndian(buffer));
            Assert.Equal(0x01, buffer[8]); // most significant byte first
            var reader = new JuteReader(buffer.AsSpan(4, length - 4));
            Assert.Equal(-5, reader.ReadInt());
            Assert.Equal(0x0102030405060708, reader.ReadLong());
            Assert.True(reader.ReadBool());
            Assert.False(reader.ReadBool());
            Assert.Equal(0, reader.Remaining);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [Fact]
    public void Strings_are_utf8_with_byte_length_and_null_is_minus_one()
    {
        var writer = new JuteWriter(8);
        writer.WriteString("/añ/ü");
        writer.WriteString(null);
        writer.WriteString("");
        var (buffer, length) = writer.Complete();
        var body = buffer.AsSpan(4, length - 4).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);

        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(body)); // 5 chars, 7 UTF-8 bytes
        var reader = new JuteReader(body);
        Assert.Equal("/añ/ü", reader.ReadString());
        Assert.Null(reader.ReadString());
        Assert.Equal("", reader.ReadString());
    }

    [Fact]
    public void Buffers_vectors_acls_and_stat_round_trip()
    {
        var stat = new Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        var writer = new JuteWriter(8);
        writer.WriteBuffer([1, 2, 3]);
        writer.WriteNullBuffer();
        writer.WriteStringVector(["a", "bc"]);
        writer.WriteAcls([new ZooKeeperAcl(Permissions.Read | Permissions.Admin, "digest", "u:h")]);
        WriteStat(ref writer, stat);
        var (buffer, length) = writer.Complete();
        var body = buffer.AsSpan(4, length - 4).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);

        var reader = new JuteReader(body);
        Assert.Equal(new byte[] { 1, 2, 3 }, reader.ReadBuffer());
        Assert.Empty(reader.ReadBuffer());
        Assert.Equal(["a", "bc"], reader.ReadStringList());
        var acl = Assert.Single(reader.ReadAcls());
        Assert.Equal(new ZooKeeperAcl(Permissions.Read | Permissions.Admin, "digest", "u:h"), acl);
        Assert.Equal(stat, reader.ReadStat());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void Stat_is_68_bytes_on_the_wire()
    {
        var writer = new JuteWriter(0);
        WriteStat(ref writer, new Stat(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        var (buffer, length) = writer.Complete();
        ArrayPool<byte>.Shared.Return(buffer);
        Assert.Equal(68, length - 4);
    }

    [Fact]
    public void Writer_grows_past_its_initial_buffer()
    {
        var big = new byte[200_000];
        Random.Shared.NextBytes(big);
        var writer = new JuteWriter(4);
        writer.WriteString(new string('x', 5000));
        writer.WriteBuffer(big);
        var (buffer, length) = writer.Complete();
        var body = buffer.AsSpan(4, length - 4).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);

        var reader = new JuteReader(body);
        Assert.Equal(5000, reader.ReadString()!.Length);
        Assert.Equal(big, reader.ReadBuffer());
    }

    [Fact]
    public void Request_frames_start_with_a_patchable_xid_and_the_opcode()
    {
        var writer = JuteWriter.ForRequest(OpCode.GetData, 0);
        writer.WriteString("/a");
        writer.WriteBool(true);
        var (buffer, length) = writer.Complete();
        var frame = buffer.AsSpan(0, length).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);

        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(JuteWriter.XidOffset)));
        Assert.Equal((int)OpCode.GetData, BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(8)));
        Assert.Equal(length - 4, BinaryPrimitives.ReadInt32BigEndian(frame));
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0 })]                      // short int
    [InlineData(new byte[] { 0, 0, 0, 9, 1, 2 })]             // string longer than the frame
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE })]       // length below -1
    public void Truncated_or_impossible_input_is_a_format_error(byte[] body)
    {
        Assert.Throws<JuteFormatException>(() =>
        {
            var reader = new JuteReader(body);
            reader.ReadString();
        });
    }

    [Fact]
    public void A_vector_count_larger_than_the_frame_is_rejected_before_allocating()
    {
        var body = new byte[] { 0x7F, 0xFF, 0xFF, 0xFF };
        Assert.Throws<JuteFormatException>(() =>
        {
            var reader = new JuteReader(body);
            reader.ReadStringList();
        });
    }

    [Fact]
    public void Connect_request_and_response_round_trip()
    {
        var frame = Handshake.EncodeRequest(new ConnectRequest(0x42, 4000, 0x1234, new byte[16]));
        var reader = new JuteReader(frame.AsSpan(4));
        Assert.Equal(0, reader.ReadInt());        // protocol version
        Assert.Equal(0x42, reader.ReadLong());    // lastZxidSeen
        Assert.Equal(4000, reader.ReadInt());
        Assert.Equal(0x1234, reader.ReadLong());
        Assert.Equal(16, reader.ReadBuffer().Length);
        Assert.False(reader.ReadBool());          // readOnly
        Assert.Equal(0, reader.Remaining);

        var writer = new JuteWriter(0);
        writer.WriteInt(0);
        writer.WriteInt(0);
        writer.WriteLong(0);
        writer.WriteBuffer(new byte[16]);
        var (buffer, length) = writer.Complete();
        var response = Handshake.DecodeResponse(buffer.AsSpan(4, length - 4));
        ArrayPool<byte>.Shared.Return(buffer);
        Assert.True(response.IsExpired); // timeout 0 / session 0 is how the server says "expired"
    }

    internal static void WriteStat(ref JuteWriter writer, Stat s)
    {
        writer.WriteLong(s.Czxid);
        writer.WriteLong(s.Mzxid);
        writer.WriteLong(s.Ctime);
        writer.WriteLong(s.Mtime);
        writer.WriteInt(s.Version);
        writer.WriteInt(s.Cversion);
        writer.WriteInt(s.Aversion);
        writer.WriteLong(s.EphemeralOwner);
        writer.WriteInt(s.DataLength);
        writer.WriteInt(s.NumChildren);
        writer.WriteLong(s.Pzxid);
    }
}
