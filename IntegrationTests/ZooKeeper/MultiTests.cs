using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

[Collection(ZooKeeperCollection.Name)]
public sealed class MultiTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task A_successful_multi_applies_everything_and_returns_per_operation_results()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/old", "x"u8.ToArray());
        await zk.CreateAsync("/gone", default);

        var results = await zk.MultiAsync(
        [
            ZooKeeperOperation.Check("/old", 0),
            ZooKeeperOperation.Create("/new", "n"u8.ToArray()),
            ZooKeeperOperation.Create("/seq-", default, CreateMode.PersistentSequential),
            ZooKeeperOperation.SetData("/old", "y"u8.ToArray(), 0),
            ZooKeeperOperation.Delete("/gone"),
        ]);

        Assert.IsType<CheckOperationResult>(results[0]);
        Assert.Equal("/new", Assert.IsType<CreateOperationResult>(results[1]).Path);
        Assert.Matches("^/seq-[0-9]{10}$", Assert.IsType<CreateOperationResult>(results[2]).Path);
        Assert.Equal(1, Assert.IsType<SetDataOperationResult>(results[3]).Stat.Version);
        Assert.IsType<DeleteOperationResult>(results[4]);
        Assert.Null(await zk.ExistsAsync("/gone"));
        Assert.Equal("y"u8.ToArray(), (await zk.GetDataAsync("/old")).Data);
    }

    [Fact]
    public async Task A_failed_multi_applies_nothing_and_names_the_failing_operation_and_code()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        await zk.CreateAsync("/a", default);

        var error = await Assert.ThrowsAsync<MultiOperationException>(() => zk.MultiAsync(
        [
            ZooKeeperOperation.Create("/b", default),
            ZooKeeperOperation.SetData("/a", "z"u8.ToArray()),
            ZooKeeperOperation.Check("/a", 7),
            ZooKeeperOperation.Delete("/a"),
        ]));

        Assert.Equal(2, error.FailedIndex);
        Assert.Equal(ErrorCode.BadVersion, error.Code);
        Assert.Equal("/a", error.Path);
        Assert.Equal(
            [ErrorCode.Ok, ErrorCode.Ok, ErrorCode.BadVersion, ErrorCode.RuntimeInconsistency],
            error.Results.Select(r => Assert.IsType<ErrorOperationResult>(r).Code));
        Assert.Null(await zk.ExistsAsync("/b"));                  // rolled back
        Assert.Equal(0, (await zk.GetDataAsync("/a")).Stat.Version);
    }

    [Fact]
    public async Task Multi_supports_ephemeral_ttl_and_container_creates()
    {
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString));
        var results = await zk.MultiAsync(
        [
            ZooKeeperOperation.Create("/c", default, CreateMode.Container),
            ZooKeeperOperation.Create("/c/e", default, CreateMode.Ephemeral),
            ZooKeeperOperation.Create("/t", default, CreateMode.PersistentWithTtl, ttl: TimeSpan.FromMinutes(1)),
        ]);

        Assert.Equal(["/c", "/c/e", "/t"], results.Select(r => ((CreateOperationResult)r).Path));
        Assert.Equal(zk.SessionId, (await zk.ExistsAsync("/c/e"))!.EphemeralOwner);
    }

    [Fact]
    public async Task An_empty_multi_is_a_no_op() =>
        Assert.Empty(await (await ConnectAsync(fixture.ConnectionString)).MultiAsync([]));
}
