using ControlPlane.Coordination.Security;
using ControlPlane.ZooKeeper;

namespace ControlPlane.UnitTests.Coordination;

public sealed class ZooKeeperAclsTests
{
    private static readonly string Director = ZooKeeperAcls.DigestId("director", "pw");
    private static readonly Dictionary<string, string> Agents = new()
    {
        ["agent-a"] = ZooKeeperAcls.DigestId("agent-a", "a"),
        ["agent-b"] = ZooKeeperAcls.DigestId("agent-b", "b"),
    };

    [Fact]
    public void A_digest_id_is_the_name_and_the_base64_sha1_of_name_colon_password()
    {
        // echo -n 'director:pw' | openssl sha1 -binary | base64
        Assert.Equal("director:" + Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData("director:pw"u8)), Director);
    }

    [Fact]
    public void Only_an_assignment_grants_its_agent_read_and_write_and_only_when_the_agent_is_registered()
    {
        var assignment = ZooKeeperAcls.ForCreate("assignments/agent-a/0193.1", ephemeral: false, Agents["agent-a"]);
        Assert.Contains(new ZooKeeperAcl(Permissions.Read | Permissions.Write, "digest", Agents["agent-a"]), assignment);
        Assert.Equal([ZooKeeperAcls.CreatorAll, ZooKeeperAcls.WorldRead], ZooKeeperAcls.ForCreate("assignments/agent-a/0193.1", false, null));
        Assert.Equal([ZooKeeperAcls.CreatorAll, ZooKeeperAcls.WorldRead], ZooKeeperAcls.ForCreate("jobs/ab/0193", false, Agents["agent-a"]));
        Assert.Equal([ZooKeeperAcls.CreatorAll, ZooKeeperAcls.WorldRead], ZooKeeperAcls.ForCreate("assignments/agent-a", false, Agents["agent-a"]));
        Assert.Equal("agent-a", ZooKeeperAcls.AssignmentWorker("assignments/agent-a/0193.1"));
        Assert.Null(ZooKeeperAcls.AssignmentWorker("assignments/agent-a"));
    }

    [Fact]
    public void Existing_nodes_get_the_director_everything_and_agents_only_their_narrow_rights()
    {
        var directorAll = new ZooKeeperAcl(Permissions.All, "digest", Director);
        Assert.Equal([directorAll, ZooKeeperAcls.WorldRead], ZooKeeperAcls.ForExisting("jobs/ab/0193", Director, Agents));
        Assert.Equal([directorAll, ZooKeeperAcls.WorldRead], ZooKeeperAcls.ForExisting("", Director, Agents));
        Assert.Equal(
            [directorAll, ZooKeeperAcls.WorldRead, new(Permissions.Create, "digest", Agents["agent-a"]), new(Permissions.Create, "digest", Agents["agent-b"])],
            ZooKeeperAcls.ForExisting("workers", Director, Agents));
        Assert.Contains(new ZooKeeperAcl(Permissions.Delete, "digest", Agents["agent-b"]), ZooKeeperAcls.ForExisting("drains", Director, Agents));
        Assert.Equal(
            [directorAll, ZooKeeperAcls.WorldRead, new(Permissions.Read | Permissions.Write, "digest", Agents["agent-b"])],
            ZooKeeperAcls.ForExisting("assignments/agent-b/0193.2", Director, Agents));
        Assert.Equal([directorAll], ZooKeeperAcls.ForExisting("identities/agent-a", Director, Agents));
        Assert.Equal(
            [new(Permissions.All, "digest", Agents["agent-a"]), directorAll, ZooKeeperAcls.WorldRead],
            ZooKeeperAcls.ForExisting("workers/agent-a", Director, Agents, Agents["agent-a"]));
    }

    [Fact]
    public void Acls_compare_as_sets_and_identity_records_round_trip_without_the_password()
    {
        var acl = ZooKeeperAcls.ForExisting("workers", Director, Agents);
        Assert.True(ZooKeeperAcls.Same(acl, [.. acl.Reverse()]));
        Assert.False(ZooKeeperAcls.Same(acl, ZooKeeperAcls.ForExisting("jobs", Director, Agents)));
        var record = ZooKeeperAcls.WriteDigest("agent-a", Agents["agent-a"]);
        Assert.Equal(Agents["agent-a"], ZooKeeperAcls.ReadDigest(record));
        Assert.Null(ZooKeeperAcls.ReadDigest("not json"u8));
    }

    [Theory]
    [InlineData("agent:1")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void A_name_that_cannot_be_an_identity_and_a_worker_id_is_refused_with_the_rule(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => StoreAccess.ValidateName(name, "The agent identity"));
        Assert.Contains("[A-Za-z0-9._@-]", error.Message, StringComparison.Ordinal);
    }
}
