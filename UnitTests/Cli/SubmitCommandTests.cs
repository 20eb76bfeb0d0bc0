using System.Net;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

public sealed class SubmitCommandTests
{
    private const string Id = "0193a1b2c3d4e5f60718293a4b5c6d7e";

    private static CliHarness Created(HttpStatusCode status = HttpStatusCode.Created) =>
        new(_ => FakeApi.Json(CliHarness.Job(Id, JobState.Pending), status));

    [Fact]
    public async Task Shell_argv_after_double_dash_becomes_the_command_of_a_posted_spec()
    {
        var cli = Created();

        var run = await cli.RunAsync("submit", "shell", "--name", "greet", "--token", "s3cret", "--", "/bin/echo", "-n", "--url", "@file");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:5080/v1/jobs", request.Uri.ToString());
        Assert.Equal("Bearer s3cret", request.Headers["Authorization"]);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        var spec = JsonDocument.Parse(request.Body!).RootElement;
        Assert.Equal("shell", spec.GetProperty("executor").GetString());
        Assert.Equal("greet", spec.GetProperty("name").GetString());
        // Words after "--" are the job's, even when they look like cpctl options or response files.
        Assert.Equal(["/bin/echo", "-n", "--url", "@file"], spec.GetProperty("command").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Every_option_lands_in_its_spec_field_and_the_key_in_its_header()
    {
        var cli = Created();

        var run = await cli.RunAsync(
            "submit", "resize", "--args", "{\"width\": 640}", "--env", "A=1", "--env", "B=x=y", "--constraint", "zone=eu",
            "--slots", "2", "--priority", "5", "--group", "g1", "--max-attempts", "4", "--timeout", "1.5m",
            "--working-directory", "/tmp", "--idempotency-key", "order 17");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal("order 17", request.Headers["Idempotency-Key"]);
        var spec = JsonSerializer.Deserialize<JobSpec>(request.Body!, ControlPlane.Contracts.ContractJson.Options)!;
        Assert.Equal("resize", spec.Executor);
        Assert.Null(spec.Command);
        Assert.Equal(640, spec.Args!.Value.GetProperty("width").GetInt32());
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "x=y" }, spec.Env);
        Assert.Equal(new Dictionary<string, string> { ["zone"] = "eu" }, spec.Constraints);
        Assert.Equal((2, 5, "g1", 4, 90, "/tmp"), (spec.Slots, spec.Priority, spec.Group, spec.MaxAttempts, spec.TimeoutSeconds, spec.WorkingDirectory));
    }

    [Fact]
    public async Task Start_options_become_run_at_delay_and_dependencies()
    {
        var cli = Created();

        var run = await cli.RunAsync(
            "submit", "shell", "--run-at", "2026-12-24T09:00:00+01:00", "--after", "a1", "--after", "b2:failure", "--after", "c3:Completion", "--", "/bin/true");
        var delayed = await cli.RunAsync("submit", "shell", "--delay", "1.5s", "--", "/bin/true");

        Assert.Equal((0, 0), (run.ExitCode, delayed.ExitCode));
        var spec = JsonSerializer.Deserialize<JobSpec>(cli.Api.Requests[0].Body!, ControlPlane.Contracts.ContractJson.Options)!;
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 8, 0, 0, TimeSpan.Zero), spec.RunAt);
        Assert.Equal(
            [("a1", DependencyCondition.Success), ("b2", DependencyCondition.Failure), ("c3", DependencyCondition.Completion)],
            spec.DependsOn!.Select(d => (d.Job, d.On)));
        Assert.Equal(2, JsonSerializer.Deserialize<JobSpec>(cli.Api.Requests[1].Body!, ControlPlane.Contracts.ContractJson.Options)!.DelaySeconds);
    }

    [Fact]
    public async Task Concurrency_takes_a_key_and_a_limit_split_at_the_last_colon()
    {
        var cli = Created();

        var run = await cli.RunAsync("submit", "shell", "--concurrency", "tenant:42:3", "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        var spec = JsonSerializer.Deserialize<JobSpec>(cli.Api.Requests[0].Body!, ControlPlane.Contracts.ContractJson.Options)!;
        Assert.Equal(("tenant:42", 3), (spec.Concurrency!.Key, spec.Concurrency.Limit));
        Assert.Contains("\"concurrency\":{\"key\":\"tenant:42\",\"limit\":3}", cli.Api.Requests[0].Body!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_option_takes_a_json_array_and_url_and_token_come_from_the_environment()
    {
        var cli = Created();
        cli.Variables["CONTROLPLANE_URL"] = "http://director.example:8080/prefix";
        cli.Variables["CONTROLPLANE_TOKEN"] = "from-env";

        var run = await cli.RunAsync("submit", "shell", "--command", "[\"/bin/sh\",\"-c\",\"echo hi\"]");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal("http://director.example:8080/prefix/v1/jobs", request.Uri.ToString());
        Assert.Equal("Bearer from-env", request.Headers["Authorization"]);
        Assert.Equal(["/bin/sh", "-c", "echo hi"], JsonDocument.Parse(request.Body!).RootElement.GetProperty("command").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("--env", "NOEQUALS")]
    [InlineData("--args", "{not json")]
    [InlineData("--command", "\"/bin/echo\"")]
    [InlineData("--timeout", "soon")]
    [InlineData("--slots", "many")]
    [InlineData("--run-at", "2026-12-24T09:00:00")]
    [InlineData("--run-at", "tomorrow")]
    [InlineData("--delay", "later")]
    [InlineData("--after", "0193a1b2c3d4e5f60718293a4b5c6d7e:sometimes")]
    [InlineData("--after", ":failure")]
    [InlineData("--concurrency", "no-limit")]
    [InlineData("--concurrency", ":3")]
    [InlineData("--concurrency", "k:three")]
    [InlineData("--concurrency", "k:-1")]
    public async Task A_malformed_value_is_a_usage_error_and_sends_nothing(string option, string value)
    {
        var cli = Created();

        var run = await cli.RunAsync("submit", "shell", option, value, "--", "/bin/true");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error:", run.Error, StringComparison.Ordinal);
        Assert.Empty(cli.Api.Requests);
    }

    [Fact]
    public async Task Argv_and_command_option_together_are_a_usage_error()
    {
        var cli = Created();

        var run = await cli.RunAsync("submit", "shell", "--command", "[\"/bin/true\"]", "--", "/bin/false");

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(cli.Api.Requests);
    }

    [Fact]
    public async Task Quiet_prints_only_the_id_and_a_replay_says_so_on_stderr()
    {
        var cli = Created(HttpStatusCode.OK);

        var run = await cli.RunAsync("submit", "shell", "-q", "-k", "once", "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Id + Environment.NewLine, run.Out);
        Assert.Contains("idempotency key already used", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_polls_the_submitted_job_at_the_submit_revision_and_exits_by_its_result()
    {
        var polls = 0;
        var cli = new CliHarness(r => r.Method == HttpMethod.Post
            ? FakeApi.Json(CliHarness.Job(Id, JobState.Pending) with { Revision = 99 }, HttpStatusCode.Created)
            : CliHarness.NoEvents(r) ?? FakeApi.Json(CliHarness.Job(Id, ++polls < 3 ? JobState.Running : JobState.Failed) with { Error = "exit code 2" }));

        var run = await cli.RunAsync("submit", "shell", "--wait", "--", "/bin/false");

        Assert.Equal(3, run.ExitCode);
        var polled = cli.Api.Requests.Skip(1).Where(r => !CliHarness.IsEvents(r)).ToList();
        Assert.All(polled, r => Assert.Equal($"/v1/jobs/{Id}?minRevision=99", r.PathAndQuery));
        Assert.Equal(3, polled.Count);
        Assert.Contains("Failed: exit code 2", run.Error, StringComparison.Ordinal);
    }
}
