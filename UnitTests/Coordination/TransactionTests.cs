using ControlPlane.Coordination;

namespace ControlPlane.UnitTests.Coordination;

public sealed class TransactionTests
{
    [Fact]
    public void Writing_a_key_twice_is_refused_with_the_key_named()
    {
        var tx = new Transaction().Create("jobs/a", "1"u8.ToArray());

        var error = Assert.Throws<InvalidOperationException>(() => tx.Update("jobs/a", "2"u8.ToArray()));
        Assert.Contains("'jobs/a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_are_enforced_with_a_hint_to_batch()
    {
        var tx = new Transaction();
        for (var i = 0; i < Transaction.MaxOperations; i++)
        {
            tx.Create($"k/{i}", "v"u8.ToArray());
        }

        var error = Assert.Throws<InvalidOperationException>(() => tx.Create("k/one-more", "v"u8.ToArray()));
        Assert.Contains("batches", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/leading")]
    [InlineData("trailing/")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("sp ace")]
    public void Invalid_keys_are_refused(string key)
    {
        Assert.Throws<ArgumentException>(() => new Transaction().Create(key, "v"u8.ToArray()));
    }

    [Fact]
    public void WithFirstCondition_puts_the_fence_first_and_keeps_the_rest_in_order()
    {
        var tx = new Transaction().RequireExists("a").Create("b", "1"u8.ToArray());

        var fenced = tx.WithFirstCondition(new Condition(ConditionKind.CreatedAt, "leader", 7));

        Assert.Equal(["leader", "a"], fenced.Conditions.Select(c => c.Key));
        Assert.Equal("b", Assert.Single(fenced.Operations).Key);
        Assert.Single(tx.Conditions);
    }
}
