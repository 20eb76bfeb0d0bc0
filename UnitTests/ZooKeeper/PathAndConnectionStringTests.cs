using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

public class PathValidationTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/a")]
    [InlineData("/a/b-c_d.e")]
    [InlineData("/a/...")]
    [InlineData("/ü/日本")]
    public void Valid_paths_are_accepted(string path) => PathValidation.Validate(path, "path");

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("/a/")]
    [InlineData("//a")]
    [InlineData("/a//b")]
    [InlineData("/a/./b")]
    [InlineData("/a/..")]
    [InlineData("/a\0b")]
    [InlineData("/a\u0001")]
    [InlineData("/a\ud800")]
    public void Invalid_paths_are_rejected_before_any_round_trip(string path) =>
        Assert.Throws<ArgumentException>(() => PathValidation.Validate(path, "path"));

    [Fact]
    public void A_sequential_prefix_may_end_with_a_slash()
    {
        PathValidation.Validate("/queue/", "path", sequential: true);
        Assert.Throws<ArgumentException>(() => PathValidation.Validate("/queue//", "path", sequential: true));
    }

    [Theory]
    [InlineData("/a/b", "/a")]
    [InlineData("/a", "/")]
    public void Parent_of_a_path(string path, string parent) => Assert.Equal(parent, PathValidation.Parent(path));
}

public class ConnectionStringTests
{
    [Fact]
    public void Hosts_ports_and_chroot_are_parsed()
    {
        var parsed = ConnectionStringParser.Parse("h1:2181, h2:2182,h3/app/sub");
        Assert.Equal([("h1", 2181), ("h2", 2182), ("h3", 2181)], parsed.Hosts);
        Assert.Equal("/app/sub", parsed.Chroot);
    }

    [Fact]
    public void A_lone_slash_means_no_chroot() => Assert.Null(ConnectionStringParser.Parse("127.0.0.1:1/").Chroot);

    [Fact]
    public void Bracketed_ipv6_literals_keep_their_colons()
    {
        var parsed = ConnectionStringParser.Parse("[::1]:2181,[fe80::1]");
        Assert.Equal([("::1", 2181), ("fe80::1", 2181)], parsed.Hosts);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/app")]
    [InlineData("h:0")]
    [InlineData("h:99999")]
    [InlineData("h:x")]
    [InlineData(":2181")]
    [InlineData("h:2181/app/")]
    public void Malformed_connection_strings_are_rejected(string text) =>
        Assert.Throws<ArgumentException>(() => ConnectionStringParser.Parse(text));
}

public class ChrootPathTests
{
    [Theory]
    [InlineData(null, "/a", "/a")]
    [InlineData("/app", "/", "/app")]
    [InlineData("/app", "/a/b", "/app/a/b")]
    public void Client_paths_get_the_chroot_prefixed(string? chroot, string client, string server) =>
        Assert.Equal(server, ChrootPath.ToServer(chroot, client));

    [Theory]
    [InlineData(null, "/a", "/a")]
    [InlineData("/app", "/app", "/")]
    [InlineData("/app", "/app/a/b", "/a/b")]
    [InlineData("/app", "/app2/x", "/app2/x")]
    public void Server_paths_get_the_chroot_stripped(string? chroot, string server, string client) =>
        Assert.Equal(client, ChrootPath.ToClient(chroot, server));

    [Fact]
    public void A_sibling_with_the_same_prefix_is_not_under_the_chroot()
    {
        Assert.False(ChrootPath.IsUnder("/app", "/app2"));
        Assert.True(ChrootPath.IsUnder("/app", "/app/x"));
        Assert.True(ChrootPath.IsUnder("/app", "/app"));
    }
}
