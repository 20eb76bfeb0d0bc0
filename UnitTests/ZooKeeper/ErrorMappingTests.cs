using ControlPlane.ZooKeeper;

namespace ControlPlane.UnitTests.ZooKeeper;

public class ErrorMappingTests
{
    [Theory]
    [InlineData(ErrorCode.NoNode, typeof(NoNodeException))]
    [InlineData(ErrorCode.NodeExists, typeof(NodeExistsException))]
    [InlineData(ErrorCode.BadVersion, typeof(BadVersionException))]
    [InlineData(ErrorCode.NotEmpty, typeof(NotEmptyException))]
    [InlineData(ErrorCode.NoAuth, typeof(NoAuthException))]
    [InlineData(ErrorCode.SessionExpired, typeof(SessionExpiredException))]
    [InlineData(ErrorCode.ConnectionLoss, typeof(ConnectionLossException))]
    [InlineData(ErrorCode.RequestTimeout, typeof(RequestTimeoutException))]
    [InlineData(ErrorCode.NoChildrenForEphemerals, typeof(NoChildrenForEphemeralsException))]
    [InlineData(ErrorCode.InvalidAcl, typeof(InvalidAclException))]
    [InlineData(ErrorCode.NoWatcher, typeof(NoWatcherException))]
    [InlineData(ErrorCode.Unimplemented, typeof(ZooKeeperException))]
    public void Each_code_maps_to_its_typed_exception_carrying_code_and_path(ErrorCode code, Type expected)
    {
        var error = ZooKeeperException.Create(code, "/x");
        Assert.IsType(expected, error);
        Assert.Equal(code, error.Code);
        if (code is not (ErrorCode.SessionExpired or ErrorCode.ConnectionLoss))
            Assert.Equal("/x", error.Path);
    }

    [Theory]
    [InlineData(ErrorCode.ConnectionLoss, -4)]
    [InlineData(ErrorCode.NoNode, -101)]
    [InlineData(ErrorCode.NodeExists, -110)]
    [InlineData(ErrorCode.SessionExpired, -112)]
    [InlineData(ErrorCode.NoWatcher, -121)]
    [InlineData(ErrorCode.ThrottledOp, -127)]
    public void Codes_have_their_wire_values(ErrorCode code, int wire) => Assert.Equal(wire, (int)code);

    [Fact]
    public void The_message_names_the_code_and_the_path()
    {
        var error = ZooKeeperException.Create(ErrorCode.NoNode, "/missing");
        Assert.Contains("NoNode", error.Message, StringComparison.Ordinal);
        Assert.Contains("/missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Digest_acl_id_is_user_and_base64_sha1_of_user_colon_password()
    {
        // Known value: the digest of "super:test" used in ZooKeeper's documentation.
        var acl = ZooKeeperAcl.Digest(Permissions.All, "super", "test");
        Assert.Equal("super:D/InIHSb7yEEbrWz8b9l71RjZJU=", acl.Id);
        Assert.Equal("digest", acl.Scheme);
    }
}
