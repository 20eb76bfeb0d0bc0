using System.Collections.Concurrent;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

/// <summary>Feature <c>workerHeartbeat</c>: liveness in the agent's own registration, not in its assignments.</summary>
public sealed class WorkerBeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task A_running_attempt_costs_one_registration_update_per_beat_and_no_assignment_write()
    {
        var time = new ManualTimeProvider();
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<SilentHandler>("silent"), time: time);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "silent" });
        var (running, assignmentVersion) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, running.JobId), TestAgent.Deadline);
        var (_, registrationVersion, owner) = await agent.ReadWorkerAsync();

        for (var beat = 1; beat <= 5; beat++)
        {
            time.Advance(Interval);
            var expected = registrationVersion + beat;
            var seen = 0L;
            await Eventually.UntilAsync(async () => (seen = (await agent.ReadWorkerAsync()).Version) >= expected, TestAgent.Deadline,
                () => $"registration version {seen}");
            var (record, version, nowOwner) = await agent.ReadWorkerAsync();
            Assert.Equal(expected, version);
            Assert.Equal(owner, nowOwner);
            Assert.Equal([StoreKeys.Name(key)], record.Running);
            Assert.Equal(1, record.SlotsUsed);
            Assert.Equal(time.GetUtcNow(), record.HeartbeatAt);
        }

        Assert.Equal(assignmentVersion, (await agent.Store.GetAsync(key))!.Version);
        SilentHandler.Release(running.JobId);
        await IdleAsync(agent);
    }

    [Fact]
    public async Task The_registration_says_which_attempts_run_and_frees_their_slots_soon_after_they_end()
    {
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<SilentHandler>("silent"));
        var first = await agent.AssignAsync(new AssignmentRecord { Executor = "silent", Slots = 2 });
        var second = await agent.AssignAsync(new AssignmentRecord { Executor = "silent" });

        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Record is { SlotsUsed: 3, Running.Count: 2 }, TestAgent.Deadline);
        var listed = (await agent.ReadWorkerAsync()).Record.Running!;
        Assert.Equal(new[] { StoreKeys.Name(first), StoreKeys.Name(second) }.Order(StringComparer.Ordinal), listed);

        SilentHandler.Release(StoreKeys.Name(first).Split('.')[0]);
        await agent.WaitForReportAsync(first);
        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Record is { SlotsUsed: 1, Running.Count: 1 }, TestAgent.Deadline);
        Assert.Equal([StoreKeys.Name(second)], (await agent.ReadWorkerAsync()).Record.Running);
        SilentHandler.Release(StoreKeys.Name(second).Split('.')[0]);
    }

    [Fact]
    public async Task An_attempt_whose_executor_path_is_wedged_stops_being_listed_and_is_listed_again_once_it_moves()
    {
        RecordingStore? wedge = null;
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<ChattyHandler>("chatty"),
            wrap: store => wedge = new RecordingStore(store));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "chatty" });
        var name = StoreKeys.Name(key);
        var (running, _) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Record.Running?.Contains(name) == true, TestAgent.Deadline);

        // The next progress write of this attempt never returns: its executor path is stuck, its session is fine.
        wedge!.Hold(key);
        ChattyHandler.Say(running.JobId, "step 2");

        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Record.Running is { Count: 0 }, TestAgent.Deadline);
        var (stuck, stuckVersion, _) = await agent.ReadWorkerAsync();
        Assert.Equal(1, stuck.SlotsUsed);
        // The worker still beats (it is alive); only the wedged attempt is left out.
        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Version > stuckVersion + 1, TestAgent.Deadline);
        Assert.Empty((await agent.ReadWorkerAsync()).Record.Running!);

        wedge.Release(key);
        await Eventually.UntilAsync(async () => (await agent.ReadAsync(key))?.Progress == "step 2", TestAgent.Deadline);
        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Record.Running?.Contains(name) == true, TestAgent.Deadline);
        ChattyHandler.Finish(running.JobId);
        Assert.Equal(AttemptState.Succeeded, (await agent.WaitForReportAsync(key)).State);
    }

    [Fact]
    public async Task Progress_reaches_the_assignment_once_per_change_not_every_beat()
    {
        var time = new ManualTimeProvider();
        await using var agent = await TestAgent.StartAsync(_server, handlers: s => s.AddJobHandler<ChattyHandler>("chatty"), time: time);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "chatty" });
        var (running, version) = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);
        await Eventually.UntilAsync(() => agent.Events.Has(ExecutionEventKind.Start, running.JobId), TestAgent.Deadline);

        // "step 1" was reported at the start: the first round writes it, the next rounds write nothing.
        await AdvanceUntilAsync(time, agent, key, "step 1");
        var written = (await agent.Store.GetAsync(key))!.Version;
        Assert.Equal(version + 1, written);
        var registration = (await agent.ReadWorkerAsync()).Version;
        for (var beat = 1; beat <= 3; beat++)
        {
            time.Advance(Interval);
            var expected = registration + beat;
            await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Version >= expected, TestAgent.Deadline);
        }

        Assert.Equal(written, (await agent.Store.GetAsync(key))!.Version);

        ChattyHandler.Say(running.JobId, "step 2");
        await AdvanceUntilAsync(time, agent, key, "step 2");
        Assert.Equal(written + 1, (await agent.Store.GetAsync(key))!.Version);
        ChattyHandler.Finish(running.JobId);
        await Eventually.UntilAsync(async () => (await agent.ReadAsync(key))?.IsFinished == true, TestAgent.Deadline);
        await IdleAsync(agent);
    }

    [Fact]
    public async Task An_agent_configured_with_heartbeat_instead_rewrites_its_assignments_and_leaves_the_registration_alone()
    {
        await using var agent = await TestAgent.StartAsync(_server, agent: o => o.Features = [Protocol.Features.Heartbeat, Protocol.Features.Cancel],
            handlers: s => s.AddJobHandler<GateHandler>("gate"));
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "gate" });
        var first = await ReconciliationTests.WaitForStateAsync(agent, key, AttemptState.Running);

        await Eventually.UntilAsync(async () => (await agent.Store.GetAsync(key))!.Version >= first.Version + 2, TestAgent.Deadline);

        var record = (await agent.ReadAsync(key))!;
        Assert.True(record.HeartbeatAt > first.Record.HeartbeatAt);
        Assert.Equal("waiting at the gate", record.Progress);
        var (worker, version, _) = await agent.ReadWorkerAsync();
        Assert.Equal(1, version);
        Assert.Null(worker.Running);
        Assert.Null(worker.SlotsUsed);
        Assert.Null(worker.HeartbeatAt);
        GateHandler.For(record.JobId).SetResult(JobResult.Success("done"));
        Assert.Equal("done", (await agent.WaitForReportAsync(key)).Output);
    }

    [Fact]
    public async Task After_the_session_is_replaced_the_next_beat_goes_to_the_new_registration()
    {
        await using var agent = await TestAgent.StartAsync(_server);
        var firstOwner = (await agent.ReadWorkerAsync()).Owner;

        agent.Store.CurrentSession.Expire();

        await Eventually.UntilAsync(async () => await agent.Store.GetAsync(StoreLayout.Worker(agent.WorkerId)) is { } item && item.Owner != firstOwner,
            TestAgent.Deadline);
        var (_, version, owner) = await agent.ReadWorkerAsync();
        await Eventually.UntilAsync(async () => (await agent.ReadWorkerAsync()).Version > version + 1, TestAgent.Deadline);
        Assert.Equal(owner, (await agent.ReadWorkerAsync()).Owner);
        Assert.Equal(agent.Store.Session.Id, owner);
    }

    // On a manual clock the drain at disposal would wait for attempts on timers nobody advances: end them first.
    private static Task IdleAsync(TestAgent agent) => Eventually.UntilAsync(() => agent.Runtime.ActiveAttempts == 0, TestAgent.Deadline);

    private static async Task AdvanceUntilAsync(ManualTimeProvider time, TestAgent agent, string key, string progress) =>
        await Eventually.UntilAsync(async () =>
        {
            if ((await agent.ReadAsync(key))?.Progress == progress)
            {
                return true;
            }

            time.Advance(Interval);
            return false;
        }, TestAgent.Deadline);

    /// <summary>Runs until released, reporting no progress.</summary>
    private sealed class SilentHandler : IJobHandler
    {
        private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

        public static void Release(string jobId) => Gate(jobId).TrySetResult();

        public async Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken)
        {
            await Gate(context.JobId).Task.WaitAsync(cancellationToken);
            return JobResult.Success();
        }

        private static TaskCompletionSource Gate(string jobId) =>
            Gates.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Reports "step 1" at once, then whatever the test says, until the test finishes it.</summary>
    private sealed class ChattyHandler : IJobHandler
    {
        private static readonly ConcurrentDictionary<string, Action<string>> Reporters = new();
        private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

        public static void Say(string jobId, string progress) => Reporters[jobId](progress);

        public static void Finish(string jobId) => Gate(jobId).TrySetResult();

        public async Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken)
        {
            Reporters[context.JobId] = context.ReportProgress;
            context.ReportProgress("step 1");
            await Gate(context.JobId).Task.WaitAsync(cancellationToken);
            return JobResult.Success();
        }

        private static TaskCompletionSource Gate(string jobId) =>
            Gates.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
