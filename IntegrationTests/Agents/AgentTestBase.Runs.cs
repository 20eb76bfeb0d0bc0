using System.Text.Json;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.IntegrationTests.Fixtures;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>Registration, running to a result, and cancellation.</summary>
public abstract partial class AgentTestBase
{
    [Fact]
    public async Task An_agent_registers_and_runs_echo_and_sleep_assignments_to_Succeeded()
    {
        var (_, events, workerId) = await StartAgentAsync();
        var worker = ContractJson.Deserialize<WorkerRecord>((await Director.GetAsync(StoreLayout.Worker(workerId)))!.Value.Span);
        Assert.Equal(["shell", "echo", "sleep"], worker.Executors);
        Assert.Equal(Protocol.Features.Default, worker.Features);

        var echo = await AssignAsync(workerId, new AssignmentRecord { Executor = "echo", Args = JsonDocument.Parse("""{"hello":"world"}""").RootElement });
        var sleep = await AssignAsync(workerId, new AssignmentRecord { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":0.2}""").RootElement });

        var echoed = await WaitForStateAsync(echo, AttemptState.Succeeded);
        var slept = await WaitForStateAsync(sleep, AttemptState.Succeeded);
        Assert.Equal("""{"hello":"world"}""", echoed.Output);
        Assert.Equal(0, slept.ExitCode);
        Assert.NotNull(events.Find(ExecutionEventKind.End, slept.JobId));
    }

    [Fact]
    public async Task A_shell_job_that_exits_3_is_reported_Failed_with_exit_code_and_output_tail()
    {
        var (_, _, workerId) = await StartAgentAsync();

        var key = await AssignAsync(workerId, new AssignmentRecord { Executor = "shell", Command = ["/bin/sh", "-c", "echo hi; exit 3"] });

        var report = await WaitForStateAsync(key, AttemptState.Failed);
        Assert.Equal(3, report.ExitCode);
        Assert.Equal("hi\n", report.Output);
        Assert.NotNull(report.StartedAt);
    }

    [Fact]
    public async Task Cancelling_a_running_shell_job_kills_its_whole_process_group()
    {
        var (_, events, workerId) = await StartAgentAsync();
        var childFile = Path.Combine(Path.GetTempPath(), TestNames.Unique("child") + ".pid");
        // The job and its background child ignore SIGTERM, so only the SIGKILL after the grace period ends them.
        var key = await AssignAsync(workerId, new AssignmentRecord
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", $"trap '' TERM; sleep 300 & echo $! > {childFile}; wait"],
        });
        var running = await WaitForStateAsync(key, AttemptState.Running);
        await Eventually.UntilAsync(() => File.Exists(childFile) && File.ReadAllText(childFile).EndsWith('\n'), Deadline);
        var child = int.Parse(File.ReadAllText(childFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var job = (await StartedProcessAsync(events, running.JobId));
        Assert.True(ProcessProbe.IsAlive(job) && ProcessProbe.IsAlive(child));

        var item = (await Director.GetAsync(key))!;
        var requested = await Director.CommitAsync(new ControlPlane.Coordination.Transaction()
            .Update(key, ContractJson.Serialize(ContractJson.Deserialize<AssignmentRecord>(item.Value.Span) with { CancelRequested = true }), item.Version));
        Assert.True(requested.Succeeded);

        var report = await WaitForStateAsync(key, AttemptState.Cancelled);
        Assert.False(ProcessProbe.IsAlive(job));
        await Eventually.UntilAsync(() => !ProcessProbe.IsAlive(child), Deadline);
        Assert.Equal(137, report.ExitCode);
        File.Delete(childFile);
    }
}
