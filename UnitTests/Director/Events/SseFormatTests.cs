using System.Buffers;
using System.Text;
using ControlPlane.Director.Events;

namespace ControlPlane.UnitTests.Director.Events;

/// <summary>The bytes of the event stream.</summary>
public sealed class SseFormatTests
{
    [Fact]
    public void An_event_is_its_id_type_and_one_data_line_then_a_blank_line()
    {
        var e = StreamEvent.Create(EventTypes.Job, 42, """{"type":"job","revision":42}"""u8);
        Assert.Equal("id: 42\nevent: job\ndata: {\"type\":\"job\",\"revision\":42}\n\n", Written(new Delivery(e, WithId: true)));
        Assert.Equal("event: job\ndata: {\"type\":\"job\",\"revision\":42}\n\n", Written(new Delivery(e, WithId: false)));
    }

    [Fact]
    public void Data_with_a_line_break_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SseFormat.Body(EventTypes.Job, "{\n}"u8));
    }

    [Fact]
    public void Comments_are_one_line_and_keepalive_is_a_comment()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SseFormat.Comment(buffer, "a\nb");
        Assert.Equal(": a b\n\n", Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(": keepalive\n\n", Encoding.UTF8.GetString(SseFormat.KeepAlive));
    }

    [Fact]
    public void A_cutoff_event_has_no_id_and_says_why()
    {
        Assert.Equal("event: cutoff\ndata: {\"type\":\"cutoff\",\"reason\":\"too slow\"}\n\n", Encoding.UTF8.GetString(EventHub.Cutoff("too slow")));
    }

    private static string Written(Delivery delivery)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SseFormat.Write(buffer, delivery);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
