using ControlPlane.Cli;
using ControlPlane.Cli.Parsing;

namespace ControlPlane.UnitTests.Cli;

public sealed class ValueParsingTests
{
    [Theory]
    [InlineData("90", 90)]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1.5h", 5400)]
    [InlineData("2D", 172800)]
    public void Durations_accept_a_number_with_an_optional_unit(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text, "--timeout"));

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("5x")]
    [InlineData("1e3")]
    [InlineData("400d")]
    public void Durations_reject_what_is_not_a_positive_bounded_duration(string text) =>
        Assert.Throws<UsageException>(() => Durations.Parse(text, "--timeout"));

    [Fact]
    public void Key_values_split_at_the_first_equals_sign()
    {
        var map = KeyValues.Parse(["A=1", "URL=http://x?a=b", "EMPTY="], "--env");

        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["URL"] = "http://x?a=b", ["EMPTY"] = "" }, map);
    }

    [Theory]
    [InlineData("=value")]
    [InlineData("novalue")]
    public void Key_values_without_a_key_are_refused(string pair) =>
        Assert.Throws<UsageException>(() => KeyValues.Parse([pair], "--env"));

    [Fact]
    public void A_key_given_twice_is_refused_rather_than_silently_overwritten() =>
        Assert.Throws<UsageException>(() => KeyValues.Parse(["A=1", "A=2"], "--env"));
}
