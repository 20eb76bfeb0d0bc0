using System.Text;

namespace ControlPlane.Agents.Executors;

/// <summary>
/// The last <c>capacity</c> bytes written to it (a ring), thread-safe: stdout and stderr of a job append to the same
/// tail, so the report shows the end of both, interleaved as they arrived.
/// </summary>
internal sealed class OutputTail(int capacity)
{
    private readonly byte[] _ring = new byte[capacity];
    private readonly Lock _lock = new();
    private long _written;

    /// <summary>Bytes appended in total (more than the capacity means the head was dropped).</summary>
    public long Written
    {
        get
        {
            lock (_lock)
            {
                return _written;
            }
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            // Only the last `capacity` bytes of a large chunk can survive.
            if (data.Length > _ring.Length)
            {
                _written += data.Length - _ring.Length;
                data = data[^_ring.Length..];
            }

            var at = (int)(_written % _ring.Length);
            var first = Math.Min(data.Length, _ring.Length - at);
            data[..first].CopyTo(_ring.AsSpan(at));
            data[first..].CopyTo(_ring);
            _written += data.Length;
        }
    }

    /// <summary>The kept bytes as text. A multi-byte character cut at the start is dropped, not shown as garbage.</summary>
    public override string ToString()
    {
        byte[] bytes;
        lock (_lock)
        {
            var count = (int)Math.Min(_written, _ring.Length);
            bytes = new byte[count];
            var start = (int)((_written - count) % _ring.Length);
            var first = Math.Min(count, _ring.Length - start);
            _ring.AsSpan(start, first).CopyTo(bytes);
            _ring.AsSpan(0, count - first).CopyTo(bytes.AsSpan(first));
        }

        var skip = 0;
        while (skip < bytes.Length && skip < 3 && (bytes[skip] & 0xC0) == 0x80)
        {
            skip++;
        }

        return Encoding.UTF8.GetString(bytes, skip, bytes.Length - skip);
    }

    /// <summary>The last <paramref name="maxBytes"/> UTF-8 bytes of <paramref name="text"/>, cut at a character boundary.</summary>
    public static string Truncate(string? text, int maxBytes)
    {
        if (string.IsNullOrEmpty(text) || Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text ?? "";
        }

        var tail = new OutputTail(maxBytes);
        tail.Append(Encoding.UTF8.GetBytes(text));
        return tail.ToString();
    }
}
