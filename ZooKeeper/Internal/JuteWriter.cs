using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>Writes one length-prefixed jute frame into a pooled array, big-endian, without allocating per
/// field. The first 4 bytes are reserved for the frame length, patched by <see cref="Complete"/>. The array
/// belongs to the caller afterwards and goes back to <see cref="ArrayPool{T}.Shared"/> once sent.</summary>
internal ref struct JuteWriter
{
    private byte[] _buffer;
    private int _position;

    public JuteWriter(int sizeHint)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(64, sizeHint + 4));
        _position = 4;
    }

    /// <summary>Starts a request frame: header {xid, type}. The xid is patched later by the writer loop
    /// (<see cref="XidOffset"/>) because only it knows the send order.</summary>
    public static JuteWriter ForRequest(OpCode op, int sizeHint)
    {
        var writer = new JuteWriter(sizeHint + 8);
        writer.WriteInt(0);
        writer.WriteInt((int)op);
        return writer;
    }

    /// <summary>Offset of the xid in a request frame (right after the length).</summary>
    public const int XidOffset = 4;

    public readonly int Length => _position;

    public void WriteInt(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(GetSpan(4), value);
        _position += 4;
    }

    public void WriteLong(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(GetSpan(8), value);
        _position += 8;
    }

    public void WriteBool(bool value)
    {
        GetSpan(1)[0] = value ? (byte)1 : (byte)0;
        _position += 1;
    }

    /// <summary>A jute buffer: length then bytes.</summary>
    public void WriteBuffer(scoped ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        value.CopyTo(GetSpan(value.Length));
        _position += value.Length;
    }

    /// <summary>A null jute buffer (length -1).</summary>
    public void WriteNullBuffer() => WriteInt(-1);

    /// <summary>A jute ustring: UTF-8 byte length then bytes; null as length -1.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        // Encode straight into the frame behind a reserved length slot: no temporary byte[].
        var span = GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var written = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, written);
        _position += 4 + written;
    }

    public void WriteStringVector(IReadOnlyCollection<string> values)
    {
        WriteInt(values.Count);
        foreach (var value in values)
            WriteString(value);
    }

    public void WriteAcls(IReadOnlyList<ZooKeeperAcl> acls)
    {
        WriteInt(acls.Count);
        for (var i = 0; i < acls.Count; i++)
        {
            WriteInt((int)acls[i].Permissions);
            WriteString(acls[i].Scheme);
            WriteString(acls[i].Id);
        }
    }

    /// <summary>Patches the frame length and hands the pooled array (and its used length) to the caller.</summary>
    public (byte[] Buffer, int Length) Complete()
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer, _position - 4);
        var result = (_buffer, _position);
        _buffer = [];
        return result;
    }

    /// <summary>Returns the array to the pool when the frame is abandoned (validation failed after start).</summary>
    public void Dispose()
    {
        if (_buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private Span<byte> GetSpan(int size)
    {
        if (_position + size > _buffer.Length)
            Grow(size);
        return _buffer.AsSpan(_position);
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _position + size));
        _buffer.AsSpan(0, _position).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
