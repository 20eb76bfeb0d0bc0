using System.ComponentModel.DataAnnotations;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.UnitTests.Coordination;

public sealed class StoreOptionsTests
{
    [Theory]
    [InlineData("myroot", "myroot")]
    [InlineData("/myroot", "myroot")]
    [InlineData("/t/nested-1", "t/nested-1")]
    public void A_root_with_or_without_a_leading_slash_is_the_same_root(string root, string effective)
    {
        var options = new StoreOptions { Root = root };

        options.Validate();

        Assert.Equal(effective, options.EffectiveRoot);
    }

    [Theory]
    [InlineData("my root")]
    [InlineData("myroot/")]
    [InlineData("a//b")]
    [InlineData("")]
    public void A_root_without_a_leading_slash_is_refused_with_the_message_it_always_had(string root)
    {
        var expected = Assert.Throws<ArgumentException>(() => StoreKeys.Validate(root, nameof(StoreOptions.Root)));

        var error = Assert.Throws<ValidationException>(() => new StoreOptions { Root = root }.Validate());

        Assert.Equal($"Store:Root is not a valid key: {expected.Message}", error.Message);
    }

    [Theory]
    [InlineData("//myroot")]
    [InlineData("/")]
    [InlineData("/my root")]
    [InlineData("/myroot/")]
    public void Only_one_leading_slash_is_forgiven(string root)
    {
        var error = Assert.Throws<ValidationException>(() => new StoreOptions { Root = root }.Validate());

        Assert.StartsWith("Store:Root is not a valid key: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_username_needs_a_password_and_no_colon()
    {
        var missing = Assert.Throws<ValidationException>(() => new StoreOptions { Username = "agent-a" }.Validate());
        Assert.StartsWith("Store:Password is required with Store:Username ('agent-a')", missing.Message, StringComparison.Ordinal);
        var colon = Assert.Throws<ValidationException>(() => new StoreOptions { Username = "a:b", Password = "x" }.Validate());
        Assert.Contains("must not contain ':'", colon.Message, StringComparison.Ordinal);
        new StoreOptions { Username = "agent-a", Password = "x" }.Validate();
    }
}
