using System.ComponentModel.DataAnnotations;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.UnitTests.Coordination;

public sealed class StoreOptionsTests
{
    [Theory]
    [InlineData("127.0.0.1:2181,127.0.0.1:2182", 2)]
    [InlineData("a:1, b:2, c:3, d:4", 4)]
    public void An_even_number_of_endpoints_gets_a_warning_naming_the_count(string endpoints, int count)
    {
        var options = new StoreOptions { Endpoints = endpoints };

        options.Validate();

        Assert.Equal(count, options.EndpointCount);
        Assert.StartsWith($"Store:Endpoints lists {count} members: an even count tolerates no more failures than {count - 1}", options.EvenEndpointsWarning(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("127.0.0.1:2379")]
    [InlineData("a:1,b:2,c:3")]
    [InlineData("a:1,b:2,c:3,d:4,e:5")]
    public void An_odd_number_of_endpoints_gets_no_warning(string? endpoints)
    {
        Assert.Null(new StoreOptions { Endpoints = endpoints }.EvenEndpointsWarning());
    }

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
