using System.Text;
using ControlPlane.Etcd;

namespace ControlPlane.UnitTests.Etcd;

public class EtcdKeysTests
{
    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', (byte)'c' }, new byte[] { (byte)'a', (byte)'b', (byte)'d' })]
    [InlineData(new byte[] { (byte)'a', 0xFF }, new byte[] { (byte)'b' })]
    [InlineData(new byte[] { (byte)'a', 0xFE, 0xFF, 0xFF }, new byte[] { (byte)'a', 0xFF })]
    [InlineData(new byte[] { 0xFF, 0xFF }, new byte[] { 0 })]
    [InlineData(new byte[0], new byte[] { 0 })]
    public void PrefixEnd_increments_the_last_byte_below_0xFF_and_drops_the_rest(byte[] prefix, byte[] expected)
    {
        Assert.Equal(expected, EtcdKeys.PrefixEnd(prefix).ToByteArray());
    }

    [Theory]
    [InlineData("jobs/é")]   // C3 A9: last byte incremented to AA, not the UTF-16 char to 'ê'
    [InlineData("jobs/日本")]
    [InlineData("jobs/😀")]  // a surrogate pair in UTF-16, four bytes in UTF-8
    public void PrefixEnd_of_non_ascii_prefixes_is_byte_wise_on_utf8(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        var end = EtcdKeys.PrefixEnd(prefix).ToByteArray();

        Assert.Equal(bytes[..^1], end[..^1]);
        Assert.Equal(bytes[^1] + 1, end[^1]);
        // Every key under the prefix sorts below the end, byte-wise, including the largest continuation.
        var longest = bytes.Concat(Enumerable.Repeat((byte)0xFF, 8)).ToArray();
        Assert.True(longest.AsSpan().SequenceCompareTo(end) < 0);
        Assert.True(bytes.AsSpan().SequenceCompareTo(end) < 0);
    }
}
