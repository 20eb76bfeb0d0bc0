using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>Drain on host stop (SIGTERM) and on a drain record.</summary>
public abstract partial class AgentTestBase
{
    [Fact]
    public async Task Stopping_the_host_lets_a_running_short_job_finish_then_deregisters()
    {
        var (host, _, workerId) = await StartAgentAsync();
        var key = await AssignAsync(workerId, new AssignmentRecord { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":1}""").RootElement });
        await WaitForStateAsync(key, AttemptState.Running);

        await host.StopAsync().WaitAsync(Deadline);

        Assert.Equal(AttemptState.Succeeded, (await ReadAsync(key))!.State);
        Assert.Null(await Director.GetAsync(StoreLayout.Worker(workerId)));
    }

    [Fact]
    public async Task A_drain_record_drains_the_agent_deletes_the_record_and_stops_the_host()
    {
        var (host, _, workerId) = await StartAgentAsync();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopped.TrySetResult());
        var key = await AssignAsync(workerId, new AssignmentRecord { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":1}""").RootElement });
        await WaitForStateAsync(key, AttemptState.Running);

        await Director.CommitAsync(new ControlPlane.Coordination.Transaction().Create(StoreLayout.Drain(workerId), ContractJson.Serialize(new DrainRecord { RequestedBy = "test" })));

        await Eventually.UntilAsync(
            async () => await Director.GetAsync(StoreLayout.Worker(workerId)) is not { } w || ContractJson.Deserialize<WorkerRecord>(w.Value.Span).Draining,
            Deadline);
        await stopped.Task.WaitAsync(Deadline);
        Assert.Equal(AttemptState.Succeeded, (await ReadAsync(key))!.State);
        Assert.Null(await Director.GetAsync(StoreLayout.Drain(workerId)));
        Assert.Null(await Director.GetAsync(StoreLayout.Worker(workerId)));
    }
}
