using System.Text.Json;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

public sealed class ReconciliationTests
{
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task Runs_an_assigned_echo_job_and_reports_Succeeded_with_its_output()
    {
        await using var agent = await TestAgent.StartAsync(_server);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "echo", Args = JsonDocument.Parse("""{"x":1}""").RootElement });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Succeeded, report.State);
        Assert.Equal(0, report.ExitCode);
        Assert.Equal("""{"x":1}""", report.Output);
        Assert.NotNull(report.StartedAt);
        Assert.NotNull(report.FinishedAt);
        Assert.Equal([ExecutionEventKind.Start, ExecutionEventKind.End], agent.Events.All.Select(e => e.Kind));
        Assert.Equal("Succeeded", agent.Events.All[1].State);
    }

    [Fact]
    public async Task A_handler_that_cannot_even_be_created_fails_the_attempt_instead_of_leaving_it_Running()
    {
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<UnbuildableHandler>("unbuildable"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "unbuildable" });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Failed, report.State);
        Assert.Contains("could not start", report.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ignores_assignments_made_to_another_session()
    {
        await using var agent = await TestAgent.StartAsync(_server);
        var stale = await agent.AssignAsync(new AssignmentRecord { Executor = "echo" }, session: agent.Store.Session.Id + 1000);
        var current = await agent.AssignAsync(new AssignmentRecord { Executor = "echo" });

        await agent.WaitForReportAsync(current);
        agent.Runtime.Reconcile();

        Assert.Equal(AttemptState.Assigned, (await agent.ReadAsync(stale))!.State);
        Assert.Equal(1, (await agent.Store.GetAsync(stale))!.Version);
    }

    [Fact]
    public async Task A_withdrawn_assignment_stops_its_job_and_reports_nothing()
    {
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var jobId = StoreKeys.Name(key).Split('.')[0];
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, jobId), TestAgent.Deadline);

        Assert.True((await agent.Store.CommitAsync(new Transaction().Delete(key))).Succeeded);

        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.End, jobId), TestAgent.Deadline);
        await Eventually.UntilAsync(() => agent.Runtime.ActiveAttempts == 0, TestAgent.Deadline);
        Assert.Null(await agent.Store.GetAsync(key));
        Assert.False(agent.Events.Has(ExecutionEventKind.Rejected, jobId));
    }

    [Fact]
    public async Task A_cancel_request_stops_the_handler_and_reports_Cancelled()
    {
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var running = await WaitForStateAsync(agent, key, AttemptState.Running);

        var item = (await agent.Store.GetAsync(key))!;
        var cancel = await agent.Store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(running.Record with { CancelRequested = true }), item.Version));
        Assert.True(cancel.Succeeded);

        var report = await agent.WaitForReportAsync(key);
        Assert.Equal(AttemptState.Cancelled, report.State);
        Assert.True(report.CancelRequested);
    }

    [Fact]
    public async Task A_cancel_request_before_the_start_is_reported_Cancelled_without_running()
    {
        await using var agent = await TestAgent.StartAsync(_server, agent: o => o.Slots = 1, handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var blocker = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        await WaitForStateAsync(agent, blocker, AttemptState.Running);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "echo", CancelRequested = true });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Cancelled, report.State);
        Assert.Null(report.StartedAt);
        GateHandler.For(StoreKeys.Name(blocker).Split('.')[0]).SetResult(JobResult.Success());
    }

    [Fact]
    public async Task Unknown_fields_are_ignored_and_an_unparseable_assignment_is_left_alone()
    {
        await using var agent = await TestAgent.StartAsync(_server);
        var jobId = JobIds.New();
        var key = StoreLayout.Assignment(agent.WorkerId, jobId, 1);
        var json = $$"""{"schema":1,"jobId":"{{jobId}}","attempt":1,"epoch":3,"workerSession":{{agent.Store.Session.Id}},"executor":"echo","futureField":{"a":[1,2]},"state":"Assigned"}""";
        var broken = StoreLayout.Assignment(agent.WorkerId, JobIds.New(), 1);
        await agent.Store.CommitAsync(new Transaction().Create(broken, "{not json"u8.ToArray()).Create(key, System.Text.Encoding.UTF8.GetBytes(json)));

        Assert.Equal(AttemptState.Succeeded, (await agent.WaitForReportAsync(key)).State);
        agent.Runtime.Reconcile();
        Assert.Equal(1, (await agent.Store.GetAsync(broken))!.Version);
    }

    internal static async Task<(AssignmentRecord Record, long Version)> WaitForStateAsync(TestAgent agent, string key, AttemptState state)
    {
        StoreItem? item = null;
        await Eventually.UntilAsync(
            async () => (item = await agent.Store.GetAsync(key)) is not null && ContractJson.Deserialize<AssignmentRecord>(item.Value.Span).State == state,
            TestAgent.Deadline);
        return (ContractJson.Deserialize<AssignmentRecord>(item!.Value.Span), item.Version);
    }
}

/// <summary>A handler whose construction fails, as one with a broken dependency would.</summary>
internal sealed class UnbuildableHandler : IJobHandler
{
    public UnbuildableHandler() => throw new InvalidOperationException("a dependency is missing");

    public Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken) => throw new NotSupportedException();
}
