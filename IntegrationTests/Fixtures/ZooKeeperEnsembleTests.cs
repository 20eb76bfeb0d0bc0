using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Fixtures;

public sealed class ZooKeeperEnsembleTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Standalone_server_answers_and_leaves_nothing_behind_when_disposed()
    {
        var server = await ZooKeeperEnsemble.StartAsync();
        var pid = server.Members[0].ProcessId!.Value;
        var root = server.RootDirectory;

        Assert.Equal("imok", await server.FourLetterWordAsync(0, "ruok"));
        Assert.Equal("standalone", await server.ModeAsync(0));

        await server.DisposeAsync();

        Assert.False(server.Members[0].IsRunning);
        Assert.False(ProcessProbe.IsAlive(pid), $"ZooKeeper pid {pid} still runs after dispose");
        Assert.False(Directory.Exists(root), $"{root} still exists after dispose");
    }

    [Fact]
    public async Task Ensemble_elects_one_leader_and_a_killed_member_rejoins_after_restart()
    {
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(members: 3);
        Assert.Equal(3, ensemble.ConnectionString.Split(',').Length);
        await WaitForOneLeaderAsync(ensemble);

        var pid = ensemble.Members[1].ProcessId!.Value;
        await ensemble.KillAsync(1);

        Assert.False(ensemble.Members[1].IsRunning);
        Assert.False(ProcessProbe.IsAlive(pid));
        Assert.Null(await ensemble.ModeAsync(1));
        // Two of three is still a quorum: the survivors serve, with one leader among them.
        await WaitForOneLeaderAsync(ensemble);

        await ensemble.StartMemberAsync(1);

        Assert.Contains(await ensemble.ModeAsync(1), new[] { "leader", "follower" });
        Assert.NotEqual(pid, ensemble.Members[1].ProcessId);
    }

    [Fact]
    public async Task Graceful_stop_and_restart_keep_the_member_serving()
    {
        await using var server = await ZooKeeperEnsemble.StartAsync(
            options: new ZooKeeperServerOptions { TickTime = TimeSpan.FromMilliseconds(300), MaxSessionTimeout = TimeSpan.FromSeconds(30) });
        var conf = await server.FourLetterWordAsync(0, "conf");
        Assert.Contains("tickTime=300", conf, StringComparison.Ordinal);
        Assert.Contains("maxSessionTimeout=30000", conf, StringComparison.Ordinal);

        await server.StopAsync(0);
        Assert.False(server.Members[0].IsRunning);
        await server.StartMemberAsync(0);
        Assert.Equal("imok", await server.FourLetterWordAsync(0, "ruok"));

        await server.RestartAsync(0);
        Assert.Equal("standalone", await server.ModeAsync(0));
    }

    private static async Task WaitForOneLeaderAsync(ZooKeeperEnsemble ensemble)
    {
        string?[] modes = [];
        await Eventually.UntilAsync(
            async () =>
            {
                modes = await Task.WhenAll(ensemble.Members.Select(m => ensemble.ModeAsync(m.Index)));
                // Every running member serves, and exactly one of them leads.
                return modes.Where((_, i) => ensemble.Members[i].IsRunning).All(m => m is "leader" or "follower")
                    && modes.Count(m => m == "leader") == 1;
            },
            Deadline,
            () => string.Join(", ", ensemble.Members.Select(m => $"{m}: {modes.ElementAtOrDefault(m.Index) ?? "not serving"}")));
    }
}
