using ControlPlane.Agents;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

public sealed class ShellExecutorTests
{
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task A_disabled_shell_executor_fails_the_attempt_with_a_clear_error()
    {
        await using var agent = await TestAgent.StartAsync(_server);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "shell", Command = ["/bin/true"] });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Failed, report.State);
        Assert.Contains("Executors:Shell:Enabled", report.Error);
    }

    [Fact]
    public async Task An_executable_outside_the_allow_list_fails_the_attempt_and_one_inside_runs()
    {
        await using var agent = await TestAgent.StartAsync(_server, shell: s =>
        {
            s.Enabled = true;
            s.Allow = ["echo"];
        });
        var refused = await agent.AssignAsync(new AssignmentRecord { Executor = "shell", Command = ["/bin/sh", "-c", "true"] });
        var allowed = await agent.AssignAsync(new AssignmentRecord { Executor = "shell", Command = ["echo", "allowed"] });

        var refusal = await agent.WaitForReportAsync(refused);
        var success = await agent.WaitForReportAsync(allowed);

        Assert.Equal(AttemptState.Failed, refusal.State);
        Assert.Contains("Executors:Shell:Allow", refusal.Error);
        Assert.Equal(AttemptState.Succeeded, success.State);
        Assert.Equal("allowed\n", success.Output);
    }

    [Fact]
    public async Task A_shell_job_gets_env_working_directory_and_the_fencing_token_and_reports_its_exit_code()
    {
        await using var agent = await TestAgent.StartAsync(_server, shell: s => s.Enabled = true);
        var key = await agent.AssignAsync(new AssignmentRecord
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", "echo $GREETING $CP_ATTEMPT $CP_EPOCH $CP_WORKER_ID $(pwd) $CP_JOB_ID >&2; exit 3"],
            Env = new Dictionary<string, string> { ["GREETING"] = "hi" },
            WorkingDirectory = "/tmp",
            Epoch = 42,
        });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Failed, report.State);
        Assert.Equal(3, report.ExitCode);
        Assert.Equal($"hi 1 42 {agent.WorkerId} /tmp {report.JobId}\n", report.Output);
        Assert.Contains("code 3", report.Error);
    }

    [Fact]
    public async Task A_missing_executable_fails_the_attempt_without_starting_anything()
    {
        await using var agent = await TestAgent.StartAsync(_server, shell: s => s.Enabled = true);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "shell", Command = ["no-such-program-here"] });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Failed, report.State);
        Assert.Contains("not found", report.Error);
        Assert.DoesNotContain(agent.Events.All, e => e.Kind == ExecutionEventKind.Start);
    }

    [Fact]
    public async Task A_job_past_its_timeout_is_stopped_and_fails()
    {
        await using var agent = await TestAgent.StartAsync(_server, shell: s => s.Enabled = true);
        var key = await agent.AssignAsync(new AssignmentRecord { Executor = "shell", Command = ["sleep", "30"], TimeoutSeconds = 1 });

        var report = await agent.WaitForReportAsync(key);

        Assert.Equal(AttemptState.Failed, report.State);
        Assert.Contains("Timed out", report.Error);
    }
}
