using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Waiting jobs through the REST API with real directors and agents (issue 19): dependencies in a diamond, failure
/// propagation (Skipped, transitively, and the failure path that runs), <c>runAt</c> judged on the leader's clock,
/// cancellation while Waiting, explain, and every bad input refused naming its field. One subclass per backend.
/// </summary>
public abstract class JobDependencyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ClusterFixture _cluster;

    protected JobDependencyTests(ClusterFixture cluster) => _cluster = cluster;

    private DirectorClient Api => _cluster.Api;

    private static JobSpec Shell(string script, params (JobView Job, DependencyCondition On)[] after) => new()
    {
        Executor = "shell",
        Command = ["/bin/sh", "-c", script],
        MaxAttempts = 1,
        DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Job = a.Job.Id, On = a.On })],
    };

    private static (JobView, DependencyCondition) Ok(JobView job) => (job, DependencyCondition.Success);

    [Fact]
    public async Task A_diamond_runs_each_job_once_and_only_after_everything_it_depends_on()
    {
        var a = await Api.SubmitAsync(Shell("sleep 0.3"));
        var b = await Api.SubmitAsync(Shell("sleep 0.2", Ok(a)));
        var c = await Api.SubmitAsync(Shell("sleep 0.1", Ok(a)));
        var d = await Api.SubmitAsync(Shell("true", Ok(b), Ok(c)));
        Assert.Equal(JobState.Waiting, d.State);
        Assert.Contains("2 jobs", d.WaitingFor, StringComparison.Ordinal);

        var done = await Task.WhenAll(new[] { a, b, c, d }.Select(j => Api.WaitForTerminalAsync(j.Id, Deadline)));

        Assert.All(done, j => Assert.Equal(JobState.Succeeded, j.State));
        var runs = Runs(a, b, c, d);
        Assert.All(new[] { a, b, c, d }, j => Assert.Single(runs, r => r.Start.JobId == j.Id)); // once each
        AssertAfter(runs, b, a);
        AssertAfter(runs, c, a);
        AssertAfter(runs, d, b, c);
    }

    [Fact]
    public async Task A_failure_skips_what_needs_its_success_transitively_and_runs_what_needs_its_failure()
    {
        var failing = await Api.SubmitAsync(Shell("exit 4"));
        var next = await Api.SubmitAsync(Shell("true", Ok(failing)));
        var afterNext = await Api.SubmitAsync(Shell("true", Ok(next)));
        var cleanup = await Api.SubmitAsync(Shell("echo cleaning", (failing, DependencyCondition.Failure)));
        var always = await Api.SubmitAsync(Shell("true", (afterNext, DependencyCondition.Completion)));

        var failed = await Api.WaitForTerminalAsync(failing.Id, Deadline);
        var skipped = await Api.WaitForTerminalAsync(next.Id, Deadline);
        var skippedToo = await Api.WaitForTerminalAsync(afterNext.Id, Deadline);
        var cleaned = await Api.WaitForTerminalAsync(cleanup.Id, Deadline);
        var ranAnyway = await Api.WaitForTerminalAsync(always.Id, Deadline);

        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal(JobState.Skipped, skipped.State);
        Assert.Contains($"dependency {failing.Id} ended Failed", skipped.Error, StringComparison.Ordinal);
        Assert.Equal(JobState.Skipped, skippedToo.State);
        Assert.Contains($"dependency {next.Id} ended Skipped", skippedToo.Error, StringComparison.Ordinal);
        Assert.Equal(JobState.Succeeded, cleaned.State);
        Assert.Contains("cleaning", cleaned.Output, StringComparison.Ordinal);
        Assert.Equal(JobState.Succeeded, ranAnyway.State);
        Assert.DoesNotContain(Runs(next, afterNext), _ => true); // skipped jobs never started anywhere
    }

    [Fact]
    public async Task A_job_with_run_at_starts_no_earlier_than_its_time_on_the_leaders_clock_and_within_a_second_of_it()
    {
        var runAt = DateTimeOffset.UtcNow.AddSeconds(3);
        var job = await Api.SubmitAsync(new JobSpec { Executor = "echo", RunAt = runAt });
        Assert.Equal((JobState.Waiting, runAt), (job.State, job.NotBefore));

        var explained = await Api.Http.GetFromJsonAsync<JobExplanation>($"/v1/jobs/{job.Id}/explain", ContractJson.Options);
        Assert.Contains(explained!.Reasons, r => r.Code == ExplainCodes.RunAt);

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        // AssignedAt is the leader's clock, which judged runAt: the release and the placement are two passes.
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.True(done.AssignedAt >= runAt, $"assigned at {done.AssignedAt:O}, before its runAt {runAt:O}");
        Assert.True(done.AssignedAt - runAt < TimeSpan.FromSeconds(1), $"assigned at {done.AssignedAt:O}, more than 1 s after its runAt {runAt:O}");
    }

    [Fact]
    public async Task A_waiting_job_is_cancelled_at_once_and_explain_names_what_it_waits_for()
    {
        var blocker = await Api.SubmitAsync(new JobSpec { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":60}""").RootElement });
        var waiting = await Api.SubmitAsync(new JobSpec { Executor = "echo", DependsOn = [new JobDependency { Job = blocker.Id }] });
        var dependent = await Api.SubmitAsync(new JobSpec { Executor = "echo", DependsOn = [new JobDependency { Job = waiting.Id }] });

        var explained = await Api.Http.GetFromJsonAsync<JobExplanation>($"/v1/jobs/{waiting.Id}/explain", ContractJson.Options);
        var reason = Assert.Single(explained!.Reasons);
        Assert.Equal(ExplainCodes.Dependency, reason.Code);
        Assert.Contains(blocker.Id, reason.Message, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Accepted, await Api.CancelAsync(waiting.Id));
        var cancelled = await Api.GetJobAsync(waiting.Id);
        Assert.Equal(JobState.Cancelled, cancelled!.State);
        var skipped = await Api.WaitForTerminalAsync(dependent.Id, Deadline);
        Assert.Equal(JobState.Skipped, skipped.State);
        Assert.Equal(HttpStatusCode.Accepted, await Api.CancelAsync(blocker.Id));
    }

    [Fact]
    public async Task Bad_start_fields_are_refused_naming_each_and_nothing_is_created()
    {
        var before = (await Api.AllJobsAsync()).Count;
        var existing = await Api.SubmitAsync(new JobSpec { Executor = "echo" });

        await AssertFieldsAsync("/v1/jobs", new { executor = "echo", dependsOn = new[] { new { job = JobIds.New() } } }, "dependsOn[0].job");
        await AssertFieldsAsync("/v1/jobs", new { executor = "echo", dependsOn = new object[] { new { job = existing.Id }, new { job = existing.Id, on = "sometimes" } } }, "dependsOn[1].on");
        await AssertFieldsAsync("/v1/jobs", new { executor = "echo", runAt = "next tuesday" }, "runAt");
        await AssertFieldsAsync("/v1/jobs", new { executor = "echo", delaySeconds = -5 }, "delaySeconds");
        await AssertFieldsAsync("/v1/jobs", new { executor = "echo", runAt = DateTimeOffset.UtcNow.AddYears(5) }, "runAt");
        await AssertFieldsAsync("/v1/schedules", new { cron = "* * * * *", job = new { executor = "echo", dependsOn = new[] { new { job = existing.Id } } } }, "job.dependsOn");

        Assert.Equal(before + 1, (await Api.AllJobsAsync()).Count);
    }

    private async Task AssertFieldsAsync(string path, object body, string field)
    {
        using var response = await Api.Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {text}");
    }

    /// <summary>Every run of these jobs in the agents' execution logs, as (start, end) intervals.</summary>
    private IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> Runs(params JobView[] jobs)
    {
        var ids = jobs.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
        return ExecutionLog.Intervals([.. ExecutionLog.Read(_cluster.Apps.ExecutionLogs).Where(e => ids.Contains(e.JobId))]);
    }

    private static void AssertAfter(IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> runs, JobView job, params JobView[] dependencies)
    {
        var start = runs.Single(r => r.Start.JobId == job.Id).Start.Time;
        foreach (var dependency in dependencies)
        {
            var end = runs.Single(r => r.Start.JobId == dependency.Id).End;
            Assert.True(start >= end, $"job {job.Id} started at {start:O}, before its dependency {dependency.Id} ended at {end:O}");
        }
    }
}

/// <summary>Waiting jobs on ZooKeeper.</summary>
[Collection(ZooKeeperClusterCollection.Name)]
public sealed class ZooKeeperJobDependencyTests(ZooKeeperClusterFixture cluster) : JobDependencyTests(cluster);

/// <summary>Waiting jobs on etcd.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdJobDependencyTests(EtcdClusterFixture cluster) : JobDependencyTests(cluster);
