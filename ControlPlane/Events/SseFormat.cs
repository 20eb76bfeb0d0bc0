using System.Buffers;
using System.Globalization;
using System.Text;

namespace ControlPlane.Director.Events;

/// <summary>The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"): fields as <c>name: value</c>
/// lines, an event ended by a blank line, comments starting with <c>:</c>. Data is one-line JSON, so it never needs
/// splitting over several <c>data:</c> lines.</summary>
internal static class SseFormat
{
    /// <summary>The comment sent on an idle stream.</summary>
    public static readonly byte[] KeepAlive = ": keepalive\n\n"u8.ToArray();

    /// <summary><c>event: type\ndata: json\n\n</c>.</summary>
    public static byte[] Body(string type, ReadOnlySpan<byte> json)
    {
        if (json.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            throw new ArgumentException("Event data must be one line.", nameof(json));
        }

        var buffer = new ArrayBufferWriter<byte>(json.Length + type.Length + 20);
        Write(buffer, "event: ");
        Write(buffer, type);
        Write(buffer, "\ndata: ");
        buffer.Write(json);
        Write(buffer, "\n\n");
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="delivery"/>: <c>id: revision</c> first when it carries its id.</summary>
    public static void Write(IBufferWriter<byte> output, Delivery delivery)
    {
        if (delivery.WithId)
        {
            WriteId(output, delivery.Event.Revision);
        }

        output.Write(delivery.Event.Body);
    }

    /// <summary>Writes <c>id: revision\n</c>.</summary>
    public static void WriteId(IBufferWriter<byte> output, long revision)
    {
        Write(output, "id: ");
        Write(output, revision.ToString(CultureInfo.InvariantCulture));
        output.Write("\n"u8);
    }

    /// <summary>Writes a comment line (<c>: text</c>) and a blank line; newlines in <paramref name="text"/> become spaces.</summary>
    public static void Comment(IBufferWriter<byte> output, string text)
    {
        Write(output, ": ");
        Write(output, text.ReplaceLineEndings(" "));
        output.Write("\n\n"u8);
    }

    private static void Write(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
