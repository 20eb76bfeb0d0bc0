using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.UnitTests.Cli;

/// <summary><c>cpctl workflow submit|get|cancel</c> against a fake director.</summary>
public sealed class WorkflowCommandTests
{
    private const string Id = "0193a1b2c3d4e5f60718293a4b5c6d70";
    private const string External = "0193a1b2c3d4e5f60718293a4b5c6dee";

    private const string Spec = """
        {"name": "etl", "jobs": [
          {"ref": "extract", "job": {"executor": "shell", "command": ["/bin/true"]}},
          {"ref": "load", "job": {"executor": "shell", "command": ["/bin/true"], "dependsOn": [{"ref": "extract"}, {"job": "0193a1b2c3d4e5f60718293a4b5c6dee", "on": "completion"}]}}
        ]}
        """;

    private static readonly string[] Refs = ["extract", "transform-a", "transform-b", "load"];

    private static string JobId(int node) => string.Create(CultureInfo.InvariantCulture, $"0193a1b2c3d4e5f60718293a4b5c{node:x4}");

    /// <summary>The ETL diamond (extract → transform-a, transform-b → load) with these states, in node order.</summary>
    private static WorkflowView Diamond(params JobState?[] states)
    {
        JobDependency On(int node) => new() { Job = JobId(node), Ref = Refs[node] };
        IReadOnlyList<JobDependency>[] after = [[], [On(0)], [On(0)], [On(1), On(2)]];
        return View([.. states.Select((state, i) => new WorkflowNodeView { Ref = Refs[i], Job = JobId(i), State = state, DependsOn = after[i] })]);
    }

    /// <summary>A committed workflow of <paramref name="nodes"/>, counted and finished as the director would say.</summary>
    private static WorkflowView View(IReadOnlyList<WorkflowNodeView> nodes, long revision = 50) => new()
    {
        Id = Id,
        Name = "etl",
        State = WorkflowState.Committed,
        CreatedAt = CliHarness.Start.AddMinutes(-5),
        Finished = nodes.All(n => n.State is not { } state || state.IsTerminal()),
        Counts = nodes.GroupBy(n => n.State?.ToString() ?? "Removed").ToDictionary(g => g.Key, g => g.Count()),
        Jobs = nodes,
        Revision = revision,
    };

    private static WorkflowView Wide(int count, JobState state, long revision) =>
        View([.. Enumerable.Range(0, count).Select(i => new WorkflowNodeView { Ref = $"n{i}", Job = JobId(i), State = state })], revision);

    private static bool IsWorkflowRead(RecordedRequest r) => r.Method == HttpMethod.Get && r.Uri.AbsolutePath == $"/v1/workflows/{Id}";

    [Fact]
    public async Task Submit_posts_the_file_with_its_key_and_prints_each_node_by_ref()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Diamond(JobState.Waiting, JobState.Waiting, JobState.Waiting, JobState.Waiting), HttpStatusCode.Created));
        var file = Path.Combine(Path.GetTempPath(), $"cpctl-workflow-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, Spec);
        try
        {
            var run = await cli.RunAsync("workflow", "submit", "-f", file, "-k", "etl-1");

            Assert.True(run.ExitCode == 0, run.Error);
            var request = Assert.Single(cli.Api.Requests);
            Assert.Equal((HttpMethod.Post, "/v1/workflows"), (request.Method, request.PathAndQuery));
            Assert.Equal("etl-1", request.Headers["Idempotency-Key"]);
            var sent = JsonSerializer.Deserialize<WorkflowSpec>(request.Body!, ContractJson.Options)!;
            Assert.Equal(["extract", "load"], sent.Jobs.Select(n => n.Ref));
            Assert.Equal(new (string?, DependencyCondition)[] { ("extract", DependencyCondition.Success), (null, DependencyCondition.Completion) }, sent.Jobs[1].Job.DependsOn!.Select(d => (d.Ref, d.On)));
            var lines = run.Out.Split(Environment.NewLine);
            Assert.Equal($"workflow: {Id}", lines[0]);
            Assert.Contains("state:    Committed (in progress)", lines);
            Assert.Contains("jobs:     4: 4 Waiting", lines);
            Assert.Equal(["REF", "JOB", "STATE", "AFTER", "ERROR"], Cells(run.Out, "REF"));
            Assert.Equal(["load", JobId(3), "Waiting", "transform-a,transform-b", "-"], Cells(run.Out, "load"));
            Assert.Equal(["extract", JobId(0), "Waiting", "-", "-"], Cells(run.Out, "extract"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Submit_reads_standard_input_quiet_prints_only_the_id_and_a_replay_says_so()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Diamond(JobState.Running, JobState.Waiting, JobState.Waiting, JobState.Waiting))) { Input = Spec };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-", "-q", "-k", "etl-1");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Id + Environment.NewLine, run.Out);
        Assert.Contains($"idempotency key already used: returning the existing workflow {Id}", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, JsonSerializer.Deserialize<WorkflowSpec>(Assert.Single(cli.Api.Requests).Body!, ContractJson.Options)!.Jobs.Count);
    }

    [Theory]
    [InlineData("""{"jobs": [{"ref": "a", "job": {"executor": "shell", "comand": ["/bin/true"]}}]}""", "standard input, line 1, byte ", "jobs[0].job.comand: unknown field", "Known here: name, executor, command,")]
    [InlineData("""{"jobs": [], "jobz": []}""", "jobz: unknown field", "Known here: name, jobs.")]
    [InlineData("{\n  \"jobs\": [\n    {\"ref\": \"a\", \"extra\": 1}\n  ]\n}", "standard input, line 3, byte ", "jobs[0].extra: unknown field", "Known here: ref, job.")]
    [InlineData("""{"jobs": [{"ref": "a", "job": {"executor": "shell"}}""", "standard input, line 1, byte ", "not valid JSON")]
    [InlineData("""{"jobs": [{"ref": "a", "job": {"executor": "shell", "dependsOn": [{"ref": "b", "on": "sometimes"}]}}]}""", "jobs[0].job.dependsOn[0].on: wrong JSON type or value; expected one of success, failure, completion.")]
    [InlineData("""{"jobs": [{"ref": "a", "job": {"executor": "shell", "slots": "two"}}]}""", "jobs[0].job.slots: wrong JSON type or value; expected a whole number.")]
    [InlineData("""{"jobs": [{"ref": "a", "ref": "b", "job": {"executor": "shell"}}]}""", "jobs[0].ref: given twice")]
    [InlineData("""[{"ref": "a"}]""", "body: wrong JSON type or value; expected an object.")]
    [InlineData(" \n", "standard input is empty; a workflow is {\"jobs\": [")]
    public async Task A_bad_file_is_a_usage_error_naming_the_field_and_its_position_and_sends_nothing(string input, params string[] says)
    {
        var cli = new CliHarness(_ => throw new InvalidOperationException("no request expected")) { Input = input };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: standard input", run.Error, StringComparison.Ordinal);
        Assert.All(says, s => Assert.Contains(s, run.Error, StringComparison.Ordinal));
        Assert.DoesNotContain("ControlPlane.Contracts", run.Error, StringComparison.Ordinal);
        Assert.Empty(cli.Api.Requests);
    }

    [Theory]
    [InlineData("-f", "/nonexistent/workflow.json", "cannot read /nonexistent/workflow.json")]
    [InlineData("--wait-timeout", "soon", "--wait-timeout")]
    [InlineData("--retry-for", "a while", "--retry-for")]
    public async Task A_missing_file_or_a_bad_duration_is_a_usage_error_before_anything_is_sent(string option, string value, string says)
    {
        var cli = new CliHarness(_ => throw new InvalidOperationException("no request expected")) { Input = Spec };
        string[] args = option == "-f" ? ["workflow", "submit", option, value] : ["workflow", "submit", "-f", "-", "--wait", option, value];

        var run = await cli.RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(says, run.Error, StringComparison.Ordinal);
        Assert.Empty(cli.Api.Requests);
    }

    [Fact]
    public async Task Without_a_file_the_command_line_is_wrong()
    {
        var cli = new CliHarness(_ => throw new InvalidOperationException("no request expected"));

        var run = await cli.RunAsync("workflow", "submit");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--file", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_workflow_prints_each_field_the_director_names_and_exits_one()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(
            HttpStatusCode.BadRequest, "The request is invalid.", "Nothing was submitted.", "{\"jobs[1].job.dependsOn[0].ref\":[\"No job of this workflow has ref extrct.\"]}"))
        {
            Input = Spec,
        };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            string.Join(Environment.NewLine, "error: The request is invalid. (400)", "  Nothing was submitted.", "  jobs[1].job.dependsOn[0].ref: No job of this workflow has ref extrct.", ""),
            run.Error);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task Wait_follows_the_open_jobs_on_the_event_stream_then_reads_the_workflow_and_exits_zero()
    {
        var done = Diamond(JobState.Succeeded, JobState.Succeeded, JobState.Succeeded, JobState.Succeeded) with { Revision = 70 };
        var cli = new CliHarness(r => r.Method == HttpMethod.Post
            ? FakeApi.Json(Diamond(JobState.Running, JobState.Waiting, JobState.Waiting, JobState.Waiting), HttpStatusCode.Created)
            : CliHarness.IsEvents(r)
                ? CliHarness.Events(string.Concat(Enumerable.Range(0, 4).Select(i => JobEvent(61 + i, JobId(i), JobState.Succeeded))))
                : IsWorkflowRead(r) ? FakeApi.Json(done) : FakeApi.Json(CliHarness.Job(r.Uri.AbsolutePath[^32..], JobState.Waiting) with { Revision = 55 }))
        {
            Input = Spec,
        };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-", "--wait");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"submitted workflow {Id} (4 jobs); waiting for it to finish", run.Error, StringComparison.Ordinal);
        // The jobs are read at the submission's revision, the stream follows them from there, and the workflow is read
        // at least as new as the last job event.
        Assert.All(cli.Api.Requests.Where(r => r.Uri.AbsolutePath.StartsWith("/v1/jobs/", StringComparison.Ordinal)), r => Assert.EndsWith("?minRevision=50", r.PathAndQuery, StringComparison.Ordinal));
        Assert.Equal($"/v1/events?type=job&job={string.Join("%2C", Enumerable.Range(0, 4).Select(JobId))}", Assert.Single(cli.Api.Requests, CliHarness.IsEvents).PathAndQuery);
        Assert.Equal($"/v1/workflows/{Id}?minRevision=64", Assert.Single(cli.Api.Requests, IsWorkflowRead).PathAndQuery);
        Assert.Empty(cli.Delays);
        Assert.Contains("jobs:     4: 4 Succeeded", run.Out, StringComparison.Ordinal);
        Assert.Contains("state:    Committed (finished)", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_exits_three_and_names_each_job_that_did_not_succeed_by_ref()
    {
        var failed = Diamond(JobState.Succeeded, JobState.Failed, JobState.Succeeded, JobState.Skipped);
        failed = failed with
        {
            Jobs = [failed.Jobs[0], failed.Jobs[1] with { Error = "exit code 2" }, failed.Jobs[2], failed.Jobs[3] with { Error = $"dependency {JobId(1)} ended Failed" }],
        };
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        var cli = new CliHarness(r => r.Method == HttpMethod.Post
            ? FakeApi.Json(Diamond(JobState.Running, JobState.Waiting, JobState.Waiting, JobState.Waiting), HttpStatusCode.Created)
            : CliHarness.NoEvents(r) ?? (IsWorkflowRead(r)
                ? FakeApi.Json(failed)
                : FakeApi.Json(CliHarness.Job(r.Uri.AbsolutePath[^32..], (reads[r.Uri.AbsolutePath] = reads.GetValueOrDefault(r.Uri.AbsolutePath) + 1) == 1 ? JobState.Running : JobState.Succeeded))))
        {
            Input = Spec,
        };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-", "--wait");

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("polling instead", run.Error, StringComparison.Ordinal);
        Assert.Contains($"transform-a {JobId(1)} Failed: exit code 2", run.Error, StringComparison.Ordinal);
        Assert.Contains($"load {JobId(3)} Skipped: dependency {JobId(1)} ended Failed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain($"extract {JobId(0)}", run.Error, StringComparison.Ordinal);
        Assert.Equal(["transform-a", JobId(1), "Failed", "extract", "exit", "code", "2"], Cells(run.Out, "transform-a"));
    }

    [Fact]
    public async Task Wait_on_a_workflow_too_large_to_stream_polls_the_workflow_itself_with_doubling_delays()
    {
        var polls = 0;
        var cli = new CliHarness(r => r.Method == HttpMethod.Post
            ? FakeApi.Json(Wide(101, JobState.Waiting, 50), HttpStatusCode.Created)
            : FakeApi.Json(++polls < 4 ? Wide(101, JobState.Running, 50 + polls) : Wide(101, JobState.Succeeded, 60)))
        {
            Input = Spec,
        };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-", "--wait", "-o", "json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(
            [$"/v1/workflows/{Id}?minRevision=50", $"/v1/workflows/{Id}?minRevision=51", $"/v1/workflows/{Id}?minRevision=52", $"/v1/workflows/{Id}?minRevision=53"],
            cli.Api.Requests.Skip(1).Select(r => r.PathAndQuery));
        Assert.Equal([250, 500, 1000, 2000], cli.Delays.Select(d => (int)d.TotalMilliseconds));
        var body = JsonDocument.Parse(run.Out).RootElement;
        Assert.True(body.GetProperty("finished").GetBoolean());
        Assert.Equal(101, body.GetProperty("counts").GetProperty("Succeeded").GetInt32());
    }

    [Fact]
    public async Task Wait_gives_up_at_its_timeout_with_exit_five()
    {
        var cli = new CliHarness(r => FakeApi.Json(Wide(101, JobState.Running, 50), r.Method == HttpMethod.Post ? HttpStatusCode.Created : HttpStatusCode.OK)) { Input = Spec };

        var run = await cli.RunAsync("workflow", "submit", "-f", "-", "--wait", "--wait-timeout", "10s");

        Assert.Equal(5, run.ExitCode);
        Assert.Equal(TimeSpan.FromSeconds(10), cli.Time.GetUtcNow() - CliHarness.Start);
        Assert.Contains("timed out after 10s: 101 of 101 jobs not finished", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_prints_counts_in_lifecycle_order_and_each_node_with_its_dependencies_by_ref()
    {
        var view = View(
        [
            new WorkflowNodeView { Ref = "extract", Job = JobId(0), State = JobState.Succeeded, FinishedAt = CliHarness.Start.AddSeconds(-90) },
            new WorkflowNodeView { Ref = "alert", Job = JobId(1), State = JobState.Skipped, Error = "dependency ended Succeeded", DependsOn = [new JobDependency { Job = JobId(0), Ref = "extract", On = DependencyCondition.Failure }] },
            new WorkflowNodeView { Ref = "load", Job = JobId(2), State = JobState.Failed, Error = "exit code 1", FinishedAt = CliHarness.Start.AddSeconds(-30), DependsOn = [new JobDependency { Job = JobId(0), Ref = "extract" }, new JobDependency { Job = External, On = DependencyCondition.Completion }] },
            new WorkflowNodeView { Job = JobId(3) },
        ]);
        var cli = new CliHarness(_ => FakeApi.Json(view));

        var run = await cli.RunAsync("workflow", "get", Id, "--min-revision", "40");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"/v1/workflows/{Id}?minRevision=40", Assert.Single(cli.Api.Requests).PathAndQuery);
        var lines = run.Out.Split(Environment.NewLine);
        Assert.Contains("name:     etl", lines);
        Assert.Contains("jobs:     4: 1 Succeeded, 1 Failed, 1 Skipped, 1 Removed", lines);
        Assert.Contains("finished: 2026-03-01T11:59:30Z (30s ago)", lines);
        Assert.Equal(["alert", JobId(1), "Skipped", "extract:failure", "dependency", "ended", "Succeeded"], Cells(run.Out, "alert"));
        Assert.Equal(["load", JobId(2), "Failed", $"extract,{External}:completion", "exit", "code", "1"], Cells(run.Out, "load"));
        Assert.Equal(["-", JobId(3), "Removed", "-", "-"], Cells(run.Out, "-"));
    }

    [Fact]
    public async Task Get_with_json_output_prints_the_body_as_sent()
    {
        var cli = new CliHarness(_ => FakeApi.Raw($"{{\"id\":\"{Id}\",\"state\":\"Committed\",\"futureField\":1}}", HttpStatusCode.OK));

        var run = await cli.RunAsync("workflow", "get", Id, "-o", "json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1, JsonDocument.Parse(run.Out).RootElement.GetProperty("futureField").GetInt32());
    }

    [Fact]
    public async Task Get_of_an_unknown_workflow_prints_the_problem_and_exits_one()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.NotFound, "Not found.", $"No workflow {Id}."));

        var run = await cli.RunAsync("workflow", "get", Id);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"No workflow {Id}.", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_deletes_the_workflow_and_says_the_cancellation_was_requested()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Diamond(JobState.Cancelled, JobState.Cancelled, JobState.Cancelled, JobState.Cancelled) with { CancelRequested = true }, HttpStatusCode.Accepted));

        var run = await cli.RunAsync("workflow", "cancel", Id);

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal((HttpMethod.Delete, $"/v1/workflows/{Id}"), (request.Method, request.PathAndQuery));
        Assert.Equal($"cancellation requested: {Id}{Environment.NewLine}", run.Out);
    }

    [Fact]
    public async Task Get_of_a_job_names_its_workflow_and_ref()
    {
        var cli = new CliHarness(_ => FakeApi.Json(CliHarness.Job(JobId(3), JobState.Waiting) with { WorkflowId = Id, WorkflowRef = "load" }));

        var run = await cli.RunAsync("get", JobId(3));

        Assert.Contains($"workflow:         {Id} (ref load)", run.Out, StringComparison.Ordinal);
    }

    /// <summary>The blank-separated cells of the first output line that starts with <paramref name="first"/>.</summary>
    private static string[] Cells(string output, string first) =>
        output.Split(Environment.NewLine).First(l => l.StartsWith(first + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string JobEvent(long revision, string id, JobState state)
    {
        var job = Encoding.UTF8.GetString(ContractJson.Serialize(CliHarness.Job(id, state) with { Revision = revision }));
        return $"id: {revision}\nevent: job\ndata: {{\"type\":\"job\",\"revision\":{revision},\"id\":\"{id}\",\"deleted\":false,\"version\":2,\"job\":{job}}}\n\n";
    }
}
