using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.Chaos;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// An odd quorum that tolerates two failures: a 5-member store under a director and an agent (processes). Two members
/// are killed with -9 at once, and with three of five left the director still accepts jobs and the agent runs them;
/// both members come back and the store is whole. Each job ends Succeeded exactly once (the execution log). One
/// subclass per backend, in the store-fault collections (beside <see cref="StoreOutageTests"/>).
/// </summary>
public abstract class FiveMemberStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private ServerCluster? _servers;

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    private ControlPlaneApps Apps { get; } = new("e2e-five");

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await Backend.StartAsync(5);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_two_of_five_members_down_jobs_are_still_accepted_and_run()
    {
        var servers = _servers!;
        var target = Backend.Target(servers, TestNames.Unique("five"));
        var director = await Apps.StartDirectorAsync(target, "director-1");
        await Apps.StartAgentAsync(target, "agent-1", slots: 4);
        await Eventually.UntilAsync(
            async () => (await director.Client.WorkersAsync()).Count == 1 && await director.Client.LeaderAsync() is not null,
            Deadline,
            () => string.Join("\n---\n", Apps.Processes.Select(p => $"{p.Name}:\n{p.LogTail(15)}")));
        var ids = new List<string> { await RunOneAsync(director.Client, "before") };

        await Task.WhenAll(servers.KillAsync(0), servers.KillAsync(1));
        output.WriteLine($"killed {servers.Members[0]} and {servers.Members[1]}");
        // Three of five: a quorum. Submissions may meet a moment of store leader election (503): retried, keyed.
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await RunOneAsync(director.Client, $"down-{i}"));
        }

        await servers.StartMembersAsync([0, 1]);
        ids.Add(await RunOneAsync(director.Client, "after"));

        // The director and the agent kept their sessions or recovered them by themselves: nobody restarted.
        Assert.All(Apps.Processes, p => Assert.False(p.HasExited, $"{p.Name} exited:\n{p.LogTail(30)}"));
        var events = ExecutionLog.Read(Apps.ExecutionLogs);
        Assert.Empty(ExecutionLog.Overlaps(events));
        Assert.Equal(ids.Order(), events.Where(e => e.Event == "end").Select(e => e.JobId).Distinct().Order());
    }

    /// <summary>Submits a short job (keyed, retried on 503 or no answer, bounded) and waits until it succeeds.</summary>
    private static async Task<string> RunOneAsync(DirectorClient client, string name)
    {
        var key = TestNames.Unique(name);
        var spec = new JobSpec { Name = key, Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":0.1}""").RootElement };
        var requests = new RequestLog();
        JobView? job = null;
        await Eventually.UntilAsync(
            async () => (job = (await requests.SubmitAsync("director-1", client.Http, spec, key)).Job) is not null,
            Deadline,
            () => string.Join("; ", requests.Calls.TakeLast(3).Select(c => $"{c.Status}: {c.Error}")));
        var done = await client.WaitForTerminalAsync(job!.Id, Deadline);
        Assert.Equal(JobState.Succeeded, done.State);
        return job.Id;
    }
}

/// <summary>Five ZooKeeper servers.</summary>
[Collection(ZooKeeperOutageCollection.Name)]
public sealed class ZooKeeperFiveMemberStoreTests(ITestOutputHelper output) : FiveMemberStoreTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>Five etcd members.</summary>
[Collection(EtcdOutageCollection.Name)]
public sealed class EtcdFiveMemberStoreTests(ITestOutputHelper output) : FiveMemberStoreTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
