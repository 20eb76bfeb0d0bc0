using System.Buffers.Binary;
using System.Text;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>The body of a received frame was shorter than its records or carried an impossible length.</summary>
internal sealed class JuteFormatException(string message) : Exception(message);

/// <summary>Reads jute fields from one received frame, big-endian, bounds-checked. Only values that escape to
/// the caller (strings, data arrays) allocate.</summary>
internal ref struct JuteReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;

    public int ReadInt()
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(Take(4));
        return value;
    }

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] != 0;

    /// <summary>A jute buffer; null (-1) reads as an empty array since callers never need to tell them apart.</summary>
    public byte[] ReadBuffer()
    {
        var length = ReadLength();
        return length <= 0 ? [] : Take(length).ToArray();
    }

    public string? ReadString()
    {
        var length = ReadLength();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    public Stat ReadStat() => new(
        ReadLong(), ReadLong(), ReadLong(), ReadLong(), ReadInt(), ReadInt(), ReadInt(),
        ReadLong(), ReadInt(), ReadInt(), ReadLong());

    public List<string> ReadStringList()
    {
        var count = ReadLength();
        // Each entry takes at least 4 bytes: reject counts the frame cannot hold before allocating.
        if (count > Remaining / 4)
            throw new JuteFormatException($"Vector of {count} strings does not fit in {Remaining} bytes.");
        var list = new List<string>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
            list.Add(ReadString() ?? "");
        return list;
    }

    public List<ZooKeeperAcl> ReadAcls()
    {
        var count = ReadLength();
        if (count > Remaining / 12)
            throw new JuteFormatException($"Vector of {count} ACLs does not fit in {Remaining} bytes.");
        var list = new List<ZooKeeperAcl>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
            list.Add(new ZooKeeperAcl((Permissions)ReadInt(), ReadString() ?? "", ReadString() ?? ""));
        return list;
    }

    private int ReadLength()
    {
        var length = ReadInt();
        if (length < -1 || length > Remaining)
            throw new JuteFormatException($"Length {length} is invalid with {Remaining} bytes left.");
        return length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
            throw new JuteFormatException($"Needed {count} bytes at {_position}, frame has {_data.Length}.");
        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
