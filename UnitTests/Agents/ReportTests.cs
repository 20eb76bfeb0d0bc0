using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

public sealed class ReportTests
{
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task A_report_that_meets_a_leader_change_is_merged_and_retried()
    {
        // Without the cancel feature the agent lets the job finish: its result must keep the leader's flag.
        await using var agent = await TestAgent.StartAsync(_server, agent: o => o.Features = [Protocol.Features.Env],
            handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, version) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        var leader = await agent.Store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(running with { CancelRequested = true }), version));
        Assert.True(leader.Succeeded);
        GateHandler.For(running.JobId).SetResult(JobResult.Success("finished anyway"));

        var report = await agent.WaitForReportAsync(key);
        Assert.Equal(AttemptState.Succeeded, report.State);
        Assert.True(report.CancelRequested);
        Assert.Equal("finished anyway", report.Output);
        Assert.Equal(version + 2, (await agent.Store.GetAsync(key))!.Version);
    }

    [Fact]
    public async Task A_result_for_a_deleted_assignment_is_rejected_and_logged()
    {
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<GateHandler>("gate"));
        await using var director = _server.Connect();
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        // Cut off, the agent cannot report; meanwhile the leader takes the attempt back.
        agent.Store.CurrentSession.Suspend();
        GateHandler.For(running.JobId).SetResult(JobResult.Success());
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.End, running.JobId), TestAgent.Deadline);
        Assert.True((await director.CommitAsync(new Transaction().Delete(key))).Succeeded);
        agent.Store.CurrentSession.Reconnect();

        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Rejected, running.JobId), TestAgent.Deadline);
        Assert.Null(await director.GetAsync(key));
        Assert.Equal("Succeeded", agent.Events.All.Single(e => e.Kind == ExecutionEventKind.Rejected).State);
    }
}
