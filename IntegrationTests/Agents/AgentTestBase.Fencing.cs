using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.Fixtures;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>Self-fencing against a real store, cut off through a TCP proxy.</summary>
public abstract partial class AgentTestBase
{
    [Fact]
    public async Task A_cut_off_agent_kills_its_job_before_the_store_expires_its_worker_and_its_late_report_is_rejected()
    {
        var proxy = Own(TcpProxy.Start(Endpoints.Split(',')[0]));
        var log = Path.Combine(Path.GetTempPath(), TestNames.Unique("execlog") + ".jsonl");
        var (host, events, workerId) = await StartAgentAsync(new Dictionary<string, string?> { ["Agent:ExecutionLog"] = log }, proxy.Address);
        var workerKey = StoreLayout.Worker(workerId);
        var firstSession = (await Director.GetAsync(workerKey))!.Owner;
        var key = await AssignAsync(workerId, new AssignmentRecord { Executor = "shell", Command = ["sleep", "300"] });
        var running = await WaitForStateAsync(key, AttemptState.Running);
        var job = (await StartedProcessAsync(events, running.JobId));

        // The director's own client sees the worker key vanish when the store expires the agent's session.
        var vanished = Task.Run(async () =>
        {
            await Director.WaitForDeletionAsync(workerKey);
            return (At: DateTimeOffset.UtcNow, JobAlive: ProcessProbe.IsAlive(job));
        });
        var cut = Stopwatch.StartNew();
        proxy.Pause();

        var (goneAt, jobAliveThen) = await vanished.WaitAsync(Deadline);
        Assert.False(jobAliveThen, "the job process was still alive when the store expired the worker's session");
        var fenced = events.Find(ExecutionEventKind.Fenced, running.JobId);
        var ended = events.Find(ExecutionEventKind.End, running.JobId);
        Assert.NotNull(fenced);
        Assert.NotNull(ended);
        Assert.True(ended.Time < goneAt, $"end {ended.Time:O} not before the key vanished {goneAt:O}");
        Output.WriteLine($"{Backend}: fenced after {(fenced.Time - (goneAt - cut.Elapsed)).TotalMilliseconds:0} ms of the cut, worker key gone after {cut.Elapsed.TotalMilliseconds:0} ms");

        // The leader takes the attempt back; then the agent comes back on a new session and its Lost report is refused.
        Assert.True((await Director.CommitAsync(new ControlPlane.Coordination.Transaction().Delete(key))).Succeeded);
        proxy.Resume();
        await Eventually.UntilAsync(async () => (await Director.GetAsync(workerKey))?.Owner is { } owner && owner != firstSession, Deadline);
        await Eventually.UntilAsync(() => events.Find(ExecutionEventKind.Rejected, running.JobId) is not null, Deadline);
        Assert.Null(await Director.GetAsync(key));

        var lines = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["start", "fenced", "end", "rejected"], lines.Select(l => l.GetProperty("event").GetString()));
        Assert.All(lines, l => Assert.Equal(running.JobId, l.GetProperty("jobId").GetString()));
        Assert.True(DateTimeOffset.Parse(lines[2].GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture) < goneAt);
        Assert.Equal("Lost", lines[2].GetProperty("state").GetString());
        // The new registration is visible to the director (above) as soon as the store has it; the agent's own flag
        // follows when its registration has read the answer, which a loaded machine may deliver later.
        await Eventually.UntilAsync(() => RuntimeOf(host).Registered, Deadline, () => "the agent does not say it is registered again");
        File.Delete(log);
    }
}
