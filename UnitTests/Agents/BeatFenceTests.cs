using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

/// <summary>Feature <c>beatFence</c> (docs/protocol.md, "Agent: beat fence"): an agent whose beats the store does not
/// acknowledge for its beat lease kills its attempts although its session lives, and starts again only once a beat is
/// acknowledged. On a fake clock: the lease is 1 s, the session timeout 30 s (its own fence stays far away).</summary>
public sealed class BeatFenceTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1);
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task A_stuck_beat_write_fences_after_the_lease_not_before_and_unfences_only_once_a_beat_is_acknowledged()
    {
        var time = new ManualTimeProvider();
        RecordingStore? wedge = null;
        await using var agent = await TestAgent.StartAsync(_server, agent: o => o.BeatFence = Lease,
            handlers: s => s.AddJobHandler<GateHandler>("gate"), sessionTimeout: TimeSpan.FromSeconds(30), time: time,
            wrap: store => wedge = new RecordingStore(store));
        Assert.Equal(Lease.TotalSeconds, (await agent.ReadWorkerAsync()).Record.BeatFenceSeconds);
        Assert.Contains(Protocol.Features.BeatFence, (await agent.ReadWorkerAsync()).Record.Features);

        // The clock has not moved since the registration was created: the lease runs from its send.
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, running.JobId), TestAgent.Deadline);

        // Every registration write from now on hangs (sent, never acknowledged): the beat loop is stuck in it.
        wedge!.Hold(StoreLayout.Worker(agent.WorkerId));
        time.Advance(TimeSpan.FromSeconds(0.9));
        await Eventually.UntilAsync(() => time.PendingTimers > 0, TestAgent.Deadline);
        agent.Runtime.CheckFence();
        Assert.False(agent.Events.Has(ExecutionEventKind.Fenced, running.JobId));
        Assert.True(agent.Runtime.Health().Healthy);

        // 1.1 s without an acknowledged beat > the 1 s lease: the monitor's next tick kills the attempt.
        time.Advance(TimeSpan.FromSeconds(0.2));
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Fenced, running.JobId), TestAgent.Deadline);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.End, running.JobId), TestAgent.Deadline);
        Assert.Contains("no beat acknowledged", agent.Runtime.Health().Reason);

        // Still fenced, and nothing new starts, while the beats hang.
        var later = await agent.AssignAsync(new AssignmentRecord { Executor = "echo" });
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.UntilAsync(() => time.PendingTimers > 0, TestAgent.Deadline);
        agent.Runtime.CheckFence();
        Assert.False(agent.Runtime.Health().Healthy);
        Assert.Equal(AttemptState.Assigned, (await agent.ReadAsync(later))!.State);

        // The store acknowledges beats again: the killed attempt is reported Lost and the new one runs.
        wedge.Release(StoreLayout.Worker(agent.WorkerId));
        await Eventually.UntilAsync(async () =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return (await agent.ReadAsync(key))?.IsFinished == true && (await agent.ReadAsync(later))?.IsFinished == true;
        }, TestAgent.Deadline);
        Assert.Equal(AttemptState.Lost, (await agent.ReadAsync(key))!.State);
        Assert.Equal(AttemptState.Succeeded, (await agent.ReadAsync(later))!.State);
        Assert.True(agent.Runtime.Health().Healthy);
    }

    [Fact]
    public async Task Fault_injection_StopBeats_fences_the_agent_after_its_lease_while_its_session_lives()
    {
        var time = new ManualTimeProvider();
        AgentOptions? options = null;
        await using var agent = await TestAgent.StartAsync(_server, agent: o => { o.BeatFence = Lease; options = o; },
            handlers: s => s.AddJobHandler<GateHandler>("gate"), sessionTimeout: TimeSpan.FromSeconds(30), time: time);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, running.JobId), TestAgent.Deadline);

        agent.Runtime.CheckFence();
        Assert.False(agent.Events.Has(ExecutionEventKind.Fenced, running.JobId));

        options!.FaultInjection.StopBeats = true;
        var stopped = (await agent.ReadWorkerAsync()).Version;
        await Eventually.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return agent.Events.Has(ExecutionEventKind.Fenced, running.JobId);
        }, TestAgent.Deadline);
        Assert.Equal(stopped, (await agent.ReadWorkerAsync()).Version);
        Assert.Equal(SessionState.Connected, agent.Store.Session.State);

        options.FaultInjection.StopBeats = false;
        var report = await ReportWhileTicking(agent, time, key);
        Assert.Equal(AttemptState.Lost, report.State);
        Assert.Contains("self-fencing", report.Error);
    }

    private static async Task<AssignmentRecord> ReportWhileTicking(TestAgent agent, ManualTimeProvider time, string key)
    {
        AssignmentRecord? seen = null;
        await Eventually.UntilAsync(async () =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return (seen = await agent.ReadAsync(key))?.IsFinished == true;
        }, TestAgent.Deadline);
        return seen!;
    }
}
