using System.Diagnostics;
using ControlPlane.Agents;
using ControlPlane.Agents.Executors;
using ControlPlane.Agents.Runtime;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>Many agents in one process, each on its own store connection.</summary>
public abstract partial class AgentTestBase
{
    private const int ScaleAgents = 200;

    [Fact]
    public async Task Two_hundred_agents_in_one_process_register_and_each_runs_one_echo_job()
    {
        var shell = new ShellExecutorOptions();
        var services = new ServiceCollection().AddSingleton(TimeProvider.System);
        services.AddJobHandler<ControlPlane.Agents.Handlers.EchoHandler>("echo");
        await using var provider = services.BuildServiceProvider();
        var registry = new ExecutorRegistry(new ShellExecutor(Options.Create(shell), TimeProvider.System),
            new HandlerExecutor(provider, shell, TimeProvider.System), provider.GetServices<JobHandlerRegistration>(), false);
        var events = new Recorder();
        var clock = Stopwatch.StartNew();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var agents = new List<(ICoordinationStore Store, AgentRuntime Runtime, Task<DrainCause> Run)>();
        foreach (var batch in Enumerable.Range(0, ScaleAgents).Chunk(25))
        {
            var started = await Task.WhenAll(batch.Select(async i =>
            {
                // 200 sessions on two busy cores: a short TTL could expire one, and an agent rightly ignores
                // assignments made to a session it no longer has. This test is about scale, not expiry.
                var store = await ConnectAsync(sessionTimeout: LongSessionTimeout);
                var runtime = new AgentRuntime(store, new AgentOptions { Id = $"a{i:d3}", Slots = 1 }, registry, [events],
                    NullLoggerFactory.Instance, TimeProvider.System, shell.GracePeriod);
                return (store, runtime, Task.Run(() => runtime.RunAsync(CancellationToken.None)));
            }));
            agents.AddRange(started);
        }

        await Task.WhenAll(agents.Select(a => a.Runtime.RegisteredOnce)).WaitAsync(TimeSpan.FromSeconds(60));
        var registered = clock.Elapsed;
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Output.WriteLine($"{Backend}: {ScaleAgents} agents registered in {registered.TotalSeconds:0.0} s; managed memory {(after - before) / ScaleAgents / 1024.0:0.0} KiB per agent (store connection included)");

        try
        {
            // As the leader: one echo job per agent, written in transactions of 50 assignments.
            var keys = new List<string>();
            var sessions = new Dictionary<string, long>();
            foreach (var batch in agents.Chunk(50))
            {
                var tx = new Transaction();
                foreach (var (store, runtime, _) in batch)
                {
                    var jobId = JobIds.New();
                    var key = StoreLayout.Assignment(runtime.WorkerId, jobId, 1);
                    sessions[runtime.WorkerId] = store.Session.Id;
                    tx.Create(key, ContractJson.Serialize(new AssignmentRecord { JobId = jobId, Attempt = 1, Epoch = 1, WorkerSession = sessions[runtime.WorkerId], Executor = "echo" }));
                    keys.Add(key);
                }

                Assert.True((await Director.CommitAsync(tx)).Succeeded);
            }

            await Eventually.UntilAsync(() => events.All.Count(e => e.Kind == ExecutionEventKind.End) == ScaleAgents, TimeSpan.FromSeconds(90),
                () => $"{events.All.Count(e => e.Kind == ExecutionEventKind.End)} ended; sessions replaced since the assignments: " +
                    agents.Count(a => a.Store.Session.Id != sessions[a.Runtime.WorkerId]));
            await Eventually.UntilAsync(async () =>
            {
                var reports = await Task.WhenAll(keys.Select(ReadAsync));
                return reports.All(r => r?.State == AttemptState.Succeeded);
            }, Deadline);
            Output.WriteLine($"{Backend}: all {ScaleAgents} jobs reported Succeeded after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (var agent in agents)
            {
                agent.Runtime.RequestDrain(DrainCause.HostStopping);
            }

            await Task.WhenAll(agents.Select(a => a.Run)).WaitAsync(TimeSpan.FromSeconds(60));
            await Task.WhenAll(agents.Select(a => a.Store.DisposeAsync().AsTask()));
        }
    }
}
