using ControlPlane.Coordination.ZooKeeper;

namespace ControlPlane.UnitTests.Coordination.ZooKeeper;

public sealed class ZooKeeperStoreOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        var options = new ZooKeeperStoreOptions();

        options.Validate();

        Assert.Equal((512, 250_000, 16_384), (options.SubtreeReadWindow, options.WatchBacklogLimit, options.WatchEventCapacity));
    }

    [Theory]
    [InlineData(nameof(ZooKeeperStoreOptions.SubtreeReadWindow), 0, "SubtreeReadWindow must be between 1 and 100,000; got 0.")]
    [InlineData(nameof(ZooKeeperStoreOptions.SubtreeReadWindow), 100_001, "SubtreeReadWindow must be between 1 and 100,000; got 100001.")]
    [InlineData(nameof(ZooKeeperStoreOptions.WatchBacklogLimit), 0, "WatchBacklogLimit must be between 1 and 100,000,000; got 0.")]
    [InlineData(nameof(ZooKeeperStoreOptions.WatchEventCapacity), -1, "WatchEventCapacity must be between 1 and 10,000,000; got -1.")]
    public void A_bound_out_of_range_is_refused_naming_the_setting(string name, int value, string message)
    {
        var options = new ZooKeeperStoreOptions();
        typeof(ZooKeeperStoreOptions).GetProperty(name)!.SetValue(options, value);

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(name, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
