using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

public sealed class RenderingTests
{
    private const string Id = "0193a1b2c3d4e5f60718293a4b5c6d7e";

    [Fact]
    public async Task Job_table_has_aligned_columns_with_attempt_worker_and_age()
    {
        var cli = new CliHarness(_ => FakeApi.Json(new JobPage(
        [
            CliHarness.Job(Id, JobState.Running, attempt: 2, worker: "worker-long-name", name: "nightly"),
            CliHarness.Job("b2", JobState.Pending) with { CancelRequested = true },
        ], null, 42)));

        var run = await cli.RunAsync("list");

        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["ID", "STATE", "ATTEMPT", "WORKER", "EXECUTOR", "NAME", "AGE"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal([Id, "Running", "2/3", "worker-long-name", "shell", "nightly", "5m"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["b2", "Pending/cancelling", "1/3", "-", "shell", "-", "5m"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // Aligned: every column starts at the same offset on every line.
        foreach (var header in new[] { "STATE", "WORKER", "AGE" })
        {
            var column = lines[0].IndexOf(header, StringComparison.Ordinal);
            Assert.All(lines.Skip(1), line => Assert.NotEqual(' ', line[column]));
            Assert.All(lines.Skip(1), line => Assert.Equal(' ', line[column - 1]));
        }
    }

    [Fact]
    public async Task Get_shows_every_set_field_and_the_output_tail_indented()
    {
        var job = CliHarness.Job(Id, JobState.Failed, worker: "w1") with
        {
            Spec = new JobSpec { Executor = "shell", Command = ["/bin/sh", "-c", "echo it's"], Env = new Dictionary<string, string> { ["A"] = "1" } },
            ExitCode = 2,
            Error = "exit code 2",
            Output = "line one\nline two\n",
            FinishedAt = CliHarness.Start.AddSeconds(-30),
        };
        var cli = new CliHarness(_ => FakeApi.Json(job));

        var run = await cli.RunAsync("get", Id, "--min-revision", "40");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"/v1/jobs/{Id}?minRevision=40", Assert.Single(cli.Api.Requests).PathAndQuery);
        Assert.Contains("state:            Failed", run.Out, StringComparison.Ordinal);
        Assert.Contains("command:          /bin/sh -c 'echo it'\\''s'", run.Out, StringComparison.Ordinal);
        Assert.Contains("env:              A=1", run.Out, StringComparison.Ordinal);
        Assert.Contains("finished:         2026-03-01T11:59:30Z (30s ago)", run.Out, StringComparison.Ordinal);
        Assert.Contains("exitCode:         2", run.Out, StringComparison.Ordinal);
        Assert.EndsWith($"output:{Environment.NewLine}  line one{Environment.NewLine}  line two{Environment.NewLine}", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("args:", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_keeps_fields_the_cli_does_not_know()
    {
        var cli = new CliHarness(_ => FakeApi.Raw($"{{\"id\":\"{Id}\",\"state\":\"Running\",\"futureField\":{{\"x\":1}}}}", System.Net.HttpStatusCode.OK));

        var run = await cli.RunAsync("get", Id, "--output", "json");

        Assert.Equal(0, run.ExitCode);
        var body = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(1, body.GetProperty("futureField").GetProperty("x").GetInt32());
        Assert.Contains(Environment.NewLine + "  \"id\"", run.Out, StringComparison.Ordinal);
    }
}
