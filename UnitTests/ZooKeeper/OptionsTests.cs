using ControlPlane.ZooKeeper;

namespace ControlPlane.UnitTests.ZooKeeper;

public class OptionsTests
{
    [Fact]
    public void Defaults_are_valid_once_a_connection_string_is_set()
    {
        var options = new ZooKeeperClientOptions { ConnectionString = "127.0.0.1:2181" };
        options.Validate();
        Assert.Equal(TimeSpan.FromSeconds(30), options.SessionTimeout);
        Assert.True(options.ExpireLocallyWhenDisconnected);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MaxReconnectDelay);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    public static TheoryData<Action<ZooKeeperClientOptions>, string> InvalidSettings => new()
    {
        { o => o.ConnectionString = "", "ConnectionString" },
        { o => o.SessionTimeout = TimeSpan.Zero, "SessionTimeout" },
        { o => o.ConnectTimeout = TimeSpan.FromSeconds(-1), "ConnectTimeout" },
        { o => o.RequestTimeout = TimeSpan.Zero, "RequestTimeout" },
        { o => o.WatchEventCapacity = 0, "WatchEventCapacity" },
        { o => o.MaxReconnectDelay = TimeSpan.Zero, "MaxReconnectDelay" },
        { o => o.TimeProvider = null!, "TimeProvider" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Invalid_settings_are_refused_naming_the_setting(Action<ZooKeeperClientOptions> breakIt, string setting)
    {
        var options = new ZooKeeperClientOptions { ConnectionString = "127.0.0.1:2181" };
        breakIt(options);
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_infinite_request_timeout_is_allowed() =>
        new ZooKeeperClientOptions { ConnectionString = "h:1", RequestTimeout = Timeout.InfiniteTimeSpan }.Validate();

    [Fact]
    public void Digest_auth_never_prints_its_credential() =>
        Assert.DoesNotContain("secret", ZooKeeperAuthInfo.Digest("user", "secret").ToString(), StringComparison.Ordinal);
}
