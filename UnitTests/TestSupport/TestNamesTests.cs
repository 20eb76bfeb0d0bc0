using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.TestSupport;

public sealed class TestNamesTests
{
    [Fact]
    public void Unique_is_readable_store_safe_and_different_every_call()
    {
        var a = TestNames.Unique("Leader Election/Fencing");
        var b = TestNames.Unique("Leader Election/Fencing");

        Assert.NotEqual(a, b);
        Assert.StartsWith("leader-election-fencing-", a, StringComparison.Ordinal);
        Assert.Matches("^[a-z0-9-]+$", a);
    }

    [Fact]
    public void Unique_defaults_to_the_calling_method()
    {
        Assert.StartsWith("unique-defaults-to-the-calling-method-", TestNames.Unique(), StringComparison.Ordinal);
    }
}
