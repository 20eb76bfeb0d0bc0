using System.Text;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Api;

namespace ControlPlane.UnitTests.Director;

public sealed class JobCursorTests
{
    [Fact]
    public void A_cursor_round_trips_through_its_opaque_form()
    {
        var id = JobIds.New();
        var cursor = new JobCursor(0xff, id);

        var text = cursor.Encode();

        Assert.DoesNotContain('=', text);
        Assert.DoesNotContain('+', text);
        Assert.DoesNotContain('/', text);
        Assert.Equal($"ff:{id}", Encoding.UTF8.GetString(Convert.FromBase64String(text.PadRight((text.Length + 3) / 4 * 4, '=').Replace('-', '+').Replace('_', '/'))));
        Assert.True(JobCursor.TryDecode(text, out var decoded));
        Assert.Equal(cursor, decoded);
    }

    [Fact]
    public void A_cursor_at_the_start_of_a_bucket_has_no_id()
    {
        Assert.True(JobCursor.TryDecode(new JobCursor(3, "").Encode(), out var decoded));
        Assert.Equal(new JobCursor(3, ""), decoded);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("MDA")] // "00": no separator
    [InlineData("enp6Og")] // "zzz:": not a two-digit hex bucket
    [InlineData("MGc6")] // "0g:": not hex
    [InlineData("MDA6YmFkL2lk")] // "00:bad/id": not a key segment
    public void Anything_else_is_refused(string? text) =>
        Assert.False(JobCursor.TryDecode(text, out _));

    [Theory]
    [InlineData("$.slots", "slots")]
    [InlineData("$.command[2]", "command[2]")]
    [InlineData("$", "body")]
    [InlineData(null, "body")]
    public void Json_paths_become_field_names(string? path, string field) =>
        Assert.Equal(field, SpecReader.FieldOf(path));
}
