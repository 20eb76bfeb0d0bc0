using ControlPlane.Agents;
using ControlPlane.Agents.Runtime;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

public sealed class FencingAndDrainTests
{
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task A_suspended_session_kills_running_jobs_before_it_could_expire_and_reports_them_Lost_once_healthy()
    {
        // 2 s session: the margin is 667 ms, so the fence comes about 1.3 s after contact is lost.
        await using var agent = await TestAgent.StartAsync(_server, sessionTimeout: TimeSpan.FromSeconds(2),
            handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        // Taken before the suspension, so "ended before this + the timeout" is stricter than "before the session could
        // expire". Judged on the event's own time rather than on the session's remaining lifetime when this test gets
        // to look: a loaded machine may run the test's check late, but not the kill.
        var lostContact = TimeProvider.System.GetUtcNow();
        agent.Store.CurrentSession.Suspend();
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Fenced, running.JobId), TestAgent.Deadline);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.End, running.JobId), TestAgent.Deadline);
        var ended = agent.Events.All.Single(e => e.Kind == ExecutionEventKind.End).Time;
        Assert.True(ended < lostContact + TimeSpan.FromSeconds(2), $"the job ended {ended - lostContact} after contact was lost; the session could expire at 2 s");

        // Nothing new starts while unhealthy.
        agent.Store.CurrentSession.Reconnect();
        var report = await agent.WaitForReportAsync(key);
        Assert.Equal(AttemptState.Lost, report.State);
        Assert.Contains("self-fencing", report.Error);
        Assert.Equal("Lost", agent.Events.All.Single(e => e.Kind == ExecutionEventKind.End).State);
    }

    [Fact]
    public async Task Fences_when_the_provable_lifetime_falls_below_the_margin_and_not_before()
    {
        var time = new ManualTimeProvider();
        await using var agent = await TestAgent.StartAsync(_server, agent: o => o.FencingMargin = TimeSpan.FromSeconds(1),
            handlers: s => s.AddJobHandler<GateHandler>("gate"), sessionTimeout: TimeSpan.FromSeconds(3), time: time);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, running.JobId), TestAgent.Deadline);

        agent.Store.CurrentSession.Suspend();
        time.Advance(TimeSpan.FromSeconds(1.9));
        await Eventually.UntilAsync(() => time.PendingTimers > 0 && agent.Runtime.ActiveAttempts == 1, TestAgent.Deadline);
        agent.Runtime.CheckFence();
        Assert.False(agent.Events.Has(ExecutionEventKind.Fenced, running.JobId));

        // 0.9 s left < 1 s margin: the monitor's next tick (every 100 ms of the provider's time) kills the job.
        time.Advance(TimeSpan.FromSeconds(0.2));
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Fenced, running.JobId), TestAgent.Deadline);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.End, running.JobId), TestAgent.Deadline);

        // Healthy again: the report's retry (on the provider's time too) lands.
        agent.Store.CurrentSession.Reconnect();
        await Eventually.UntilAsync(async () =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return (await agent.ReadAsync(key))?.IsFinished == true;
        }, TestAgent.Deadline);
        Assert.Equal(AttemptState.Lost, (await agent.ReadAsync(key))!.State);
    }

    [Fact]
    public async Task A_drain_record_lets_the_running_job_finish_marks_the_worker_draining_and_deregisters()
    {
        var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<GateHandler>("gate"));
        await using var director = _server.Connect();
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        await director.CommitAsync(new Transaction().Create(StoreLayout.Drain(agent.WorkerId), ContractJson.Serialize(new DrainRecord())));
        await Eventually.UntilAsync(
            async () => (await director.GetAsync(StoreLayout.Worker(agent.WorkerId))) is { } w && ContractJson.Deserialize<WorkerRecord>(w.Value.Span).Draining,
            TestAgent.Deadline);
        var later = await agent.AssignAsync(new AssignmentRecord { Executor = "echo" });
        GateHandler.For(running.JobId).SetResult(JobResult.Success());

        Assert.Equal(DrainCause.DrainRecord, await agent.Run.WaitAsync(TestAgent.Deadline));
        Assert.Equal(AttemptState.Succeeded, (await agent.ReadAsync(key))!.State);
        Assert.Equal(AttemptState.Assigned, (await agent.ReadAsync(later))!.State);
        Assert.Null(await director.GetAsync(StoreLayout.Drain(agent.WorkerId)));
        Assert.Null(await director.GetAsync(StoreLayout.Worker(agent.WorkerId)));
        await agent.DisposeAsync();
    }

    [Fact]
    public async Task A_drain_that_runs_out_of_time_stops_the_rest_and_reports_them_Lost()
    {
        var agent = await TestAgent.StartAsync(_server, agent: o => o.DrainTimeout = TimeSpan.FromMilliseconds(300),
            handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        agent.Runtime.RequestDrain(DrainCause.HostStopping);

        Assert.Equal(DrainCause.HostStopping, await agent.Run.WaitAsync(TestAgent.Deadline));
        var report = (await agent.ReadAsync(key))!;
        Assert.Equal(AttemptState.Lost, report.State);
        Assert.Contains("drain", report.Error);
        await agent.DisposeAsync();
    }
}
