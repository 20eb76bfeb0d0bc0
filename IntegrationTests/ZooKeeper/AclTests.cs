using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

[Collection(ZooKeeperCollection.Name)]
public sealed class AclTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task A_digest_protected_node_refuses_other_sessions_and_admits_the_right_credentials()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString);
        await using var owner = await ConnectAsync(servers, o => o.AuthInfos.Add(ZooKeeperAuthInfo.Digest("alice", "secret")));
        await owner.CreateAsync("/vault", "gold"u8.ToArray(), acl: ZooKeeperAcl.CreatorAll);

        await using var stranger = await ConnectAsync(servers);
        var denied = await Assert.ThrowsAsync<NoAuthException>(() => stranger.GetDataAsync("/vault"));
        Assert.Equal("/vault", denied.Path);

        await stranger.AddAuthAsync(ZooKeeperAuthInfo.Digest("alice", "wrong"));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.GetDataAsync("/vault"));

        await stranger.AddAuthAsync(ZooKeeperAuthInfo.Digest("alice", "secret"));
        Assert.Equal("gold"u8.ToArray(), (await stranger.GetDataAsync("/vault")).Data);
    }

    [Fact]
    public async Task Get_and_set_acl_round_trip_with_the_acl_version()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/n", default);
        var acl = await zk.GetAclAsync("/n");
        Assert.Equal(ZooKeeperAcl.OpenUnsafe, acl.Acl);

        var digest = ZooKeeperAcl.Digest(Permissions.Read | Permissions.Admin, "bob", "pw");
        await Assert.ThrowsAsync<BadVersionException>(() => zk.SetAclAsync("/n", ZooKeeperAcl.ReadUnsafe, acl.Stat.Aversion + 1));
        var stat = await zk.SetAclAsync("/n", [digest, new ZooKeeperAcl(Permissions.Read, "world", "anyone")], acl.Stat.Aversion);
        Assert.Equal(1, stat.Aversion);
        await Assert.ThrowsAsync<NoAuthException>(() => zk.SetAclAsync("/n", ZooKeeperAcl.OpenUnsafe)); // no ADMIN for world
        await Assert.ThrowsAsync<NoAuthException>(() => zk.SetDataAsync("/n", default)); // world may only read now

        // 3.8 servers mask the digest hash ("bob:x") for sessions not authenticated as that identity.
        var reread = await zk.GetAclAsync("/n");
        Assert.Contains(reread.Acl, a => a.Scheme == "digest" && a.Id.StartsWith("bob:", StringComparison.Ordinal) && a.Permissions == digest.Permissions);
    }

    [Fact]
    public async Task Creator_acl_without_any_auth_is_an_invalid_acl() =>
        await Assert.ThrowsAsync<InvalidAclException>(async () =>
        {
            await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
            await zk.CreateAsync("/n", default, acl: ZooKeeperAcl.CreatorAll);
        });

    [Fact]
    public async Task Authentication_is_replayed_after_a_reconnect()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString);
        var chroot = servers[servers.IndexOf('/', StringComparison.Ordinal)..];
        await using (var setup = await ConnectAsync(servers, o => o.AuthInfos.Add(ZooKeeperAuthInfo.Digest("carol", "pw"))))
            await setup.CreateAsync("/private", "p"u8.ToArray(), acl: ZooKeeperAcl.CreatorAll);

        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var zk = await ConnectAsync(proxy.Address + chroot);
        await zk.AddAuthAsync(ZooKeeperAuthInfo.Digest("carol", "pw"));
        Assert.Equal("p"u8.ToArray(), (await zk.GetDataAsync("/private")).Data);
        var session = zk.SessionId;

        proxy.CutAll();
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                return (await zk.GetDataAsync("/private")).Data.Length == 1;
            }
            catch (ConnectionLossException)
            {
                return false;
            }
        }, Deadline, () => $"state {zk.State}");

        Assert.Equal(session, zk.SessionId);
        Assert.True(proxy.TotalConnections >= 2);
    }
}
