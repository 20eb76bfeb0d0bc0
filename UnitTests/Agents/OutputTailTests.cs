using System.Text;
using ControlPlane.Agents.Executors;
using ControlPlane.Contracts;

namespace ControlPlane.UnitTests.Agents;

public sealed class OutputTailTests
{
    [Fact]
    public void Keeps_only_the_last_bytes_across_many_appends()
    {
        var tail = new OutputTail(8);
        foreach (var chunk in new[] { "abc", "defgh", "ijklm", "n" })
        {
            tail.Append(Encoding.UTF8.GetBytes(chunk));
        }

        Assert.Equal("ghijklmn", tail.ToString());
        Assert.Equal(14, tail.Written);
    }

    [Fact]
    public void A_chunk_larger_than_the_tail_keeps_its_end()
    {
        var tail = new OutputTail(Limits.OutputTailBytes);
        tail.Append(Encoding.UTF8.GetBytes(new string('x', 10_000) + "END"));

        var text = tail.ToString();
        Assert.Equal(Limits.OutputTailBytes, Encoding.UTF8.GetByteCount(text));
        Assert.EndsWith("END", text);
    }

    [Fact]
    public void A_character_cut_at_the_start_is_dropped_rather_than_garbled()
    {
        var tail = new OutputTail(4);
        tail.Append(Encoding.UTF8.GetBytes("aé€")); // 1 + 2 + 3 bytes: the tail starts inside é

        Assert.Equal("€", tail.ToString());
    }

    [Fact]
    public void Truncate_bounds_handler_output_in_utf8_bytes()
    {
        var output = OutputTail.Truncate(new string('é', 3000), Limits.OutputTailBytes);

        Assert.True(Encoding.UTF8.GetByteCount(output) <= Limits.OutputTailBytes);
        Assert.Equal("short", OutputTail.Truncate("short", Limits.OutputTailBytes));
    }
}
