using System.Net;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// The job life cycle through the REST API with real directors and agents as processes: success, failure with the
/// exit code and output, retries, timeouts, cancellation, FIFO groups, constraints, capabilities, and reads that
/// follow writes across directors. One subclass per backend.
/// </summary>
public abstract class JobLifecycleTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ClusterFixture _cluster;

    protected JobLifecycleTests(ClusterFixture cluster) => _cluster = cluster;

    private DirectorClient Api => _cluster.Api;

    private DirectorClient Other => _cluster.Directors[1].Client;

    [Fact]
    public async Task A_job_runs_to_success_with_the_handlers_output()
    {
        var args = JsonDocument.Parse("""{"greeting":"hello from e2e"}""").RootElement;
        var job = await Api.SubmitAsync(new JobSpec { Executor = "echo", Args = args });

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Contains("hello from e2e", done.Output, StringComparison.Ordinal);
        Assert.Equal(1, done.Attempt);
        Assert.NotNull(done.StartedAt);
        Assert.NotNull(done.FinishedAt);
    }

    [Fact]
    public async Task A_failing_shell_job_ends_failed_with_its_exit_code_and_output_tail()
    {
        var job = await Api.SubmitAsync(new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", "echo boom-output; exit 3"],
            MaxAttempts = 1,
        });

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Failed, done.State);
        Assert.Equal(3, done.ExitCode);
        Assert.Contains("boom-output", done.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_and_the_attempt_number_reaches_the_job()
    {
        // Fails on attempt 1, succeeds on attempt 2: the fencing token reaches the process as CP_ATTEMPT.
        var job = await Api.SubmitAsync(new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", "echo attempt=$CP_ATTEMPT; test \"$CP_ATTEMPT\" -ge 2"],
            MaxAttempts = 3,
        });

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, done.Attempt);
        Assert.Contains("attempt=2", done.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_past_its_timeout_is_stopped_and_failed()
    {
        var job = await Api.SubmitAsync(new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sleep", "60"],
            TimeoutSeconds = 1,
            MaxAttempts = 1,
        });

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("time", done.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_cancels_it_at_once()
    {
        var job = await Api.SubmitAsync(new JobSpec
        {
            Executor = "sleep",
            Constraints = new Dictionary<string, string> { ["zone"] = "nowhere" },
        });

        Assert.Equal(HttpStatusCode.Accepted, await Api.CancelAsync(job.Id));
        var done = await Api.GetJobAsync(job.Id);

        Assert.Equal(JobState.Cancelled, done!.State);
        Assert.Equal(HttpStatusCode.Conflict, await Api.CancelAsync(job.Id));
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_its_process()
    {
        var job = await Api.SubmitAsync(new JobSpec { Executor = "shell", Command = ["/bin/sleep", "120"], MaxAttempts = 1 });
        await Eventually.UntilAsync(async () => (await Api.GetJobAsync(job.Id))?.State == JobState.Running, Deadline);

        Assert.Equal(HttpStatusCode.Accepted, await Api.CancelAsync(job.Id));
        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Cancelled, done.State);
    }

    [Fact]
    public async Task Cancelling_an_unknown_job_is_not_found()
    {
        Assert.Equal(HttpStatusCode.NotFound, await Api.CancelAsync(JobIds.New()));
    }

    [Fact]
    public async Task A_fifo_group_runs_its_jobs_one_at_a_time_in_submission_order()
    {
        var group = TestNames.Unique();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var args = JsonDocument.Parse("""{"seconds":0.2}""").RootElement;
            ids.Add((await Api.SubmitAsync(new JobSpec { Executor = "sleep", Args = args, Group = group, Priority = i })).Id);
        }

        var done = new List<JobView>();
        foreach (var id in ids)
        {
            done.Add(await Api.WaitForTerminalAsync(id, Deadline));
        }

        Assert.All(done, j => Assert.Equal(JobState.Succeeded, j.State));
        for (var i = 1; i < done.Count; i++)
        {
            Assert.True(done[i].StartedAt >= done[i - 1].FinishedAt,
                $"job {i} started at {done[i].StartedAt:O} before job {i - 1} finished at {done[i - 1].FinishedAt:O}");
        }
    }

    [Fact]
    public async Task Constraints_pick_the_worker_with_matching_labels()
    {
        var job = await Api.SubmitAsync(new JobSpec
        {
            Executor = "echo",
            Constraints = new Dictionary<string, string> { ["zone"] = "b" },
        });

        var done = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal((JobState.Succeeded, "agent-b"), (done.State, done.WorkerId));
    }

    [Fact]
    public async Task A_job_needing_a_feature_an_agent_lacks_never_goes_to_that_agent()
    {
        var lean = new Dictionary<string, string> { ["zone"] = "lean" };
        var needsEnv = await Api.SubmitAsync(new JobSpec
        {
            Executor = "echo",
            Constraints = lean,
            Env = new Dictionary<string, string> { ["GREETING"] = "hi" },
        });
        var plain = await Api.SubmitAsync(new JobSpec { Executor = "echo", Constraints = lean });

        var ran = await Api.WaitForTerminalAsync(plain.Id, Deadline);
        var waiting = await Api.GetJobAsync(needsEnv.Id);

        Assert.Equal((JobState.Succeeded, "agent-lean"), (ran.State, ran.WorkerId));
        // The lean agent had room (it ran the later job), so only the missing feature kept this one waiting.
        Assert.Equal((JobState.Pending, 1, (string?)null), (waiting!.State, waiting.Attempt, waiting.WorkerId));
        Assert.Equal(HttpStatusCode.Accepted, await Api.CancelAsync(needsEnv.Id));
    }

    [Fact]
    public async Task A_job_written_through_one_director_is_read_through_another_at_once()
    {
        for (var i = 0; i < 30; i++)
        {
            var job = await Api.SubmitAsync(new JobSpec { Executor = "echo" });
            var seen = await Other.GetJobAsync(job.Id, job.Revision);
            Assert.NotNull(seen);
            Assert.True(seen.Revision >= job.Revision, $"read at {seen.Revision} after a write at {job.Revision}");
        }
    }

    [Fact]
    public async Task Requests_without_a_token_are_refused()
    {
        using var anonymous = new DirectorClient(_cluster.Directors[0].Url, token: null);

        using var response = await anonymous.Http.GetAsync(new Uri("/v1/workers", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_director_refuses_a_newer_key_layout_and_exits_with_a_failure()
    {
        var target = _cluster.Target with { Root = TestNames.Unique() };
        await using (var store = await new StoreOptions { Backend = target.Backend, Endpoints = target.Endpoints, Root = target.Root }.ConnectAsync())
        {
            var written = await store.CommitAsync(new Transaction().Create(StoreLayout.Schema, ContractJson.Serialize(new SchemaRecord(99))));
            Assert.True(written.Succeeded);
        }

        var director = await _cluster.Apps.StartDirectorAsync(target, "director-too-old", waitUntilHealthy: false);
        await Eventually.UntilAsync(() => director.Process.HasExited, Deadline, () => director.Process.LogTail());

        Assert.Equal(1, director.Process.ExitCode);
        Assert.True(director.Process.LogContains("Upgrade the director"), director.Process.LogTail());
    }

    [Fact]
    public async Task Bad_input_is_refused_naming_the_field()
    {
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Api.SubmitAsync(new JobSpec { Executor = "shell" }));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("command", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The job life cycle on ZooKeeper.</summary>
[Collection(ZooKeeperClusterCollection.Name)]
public sealed class ZooKeeperJobLifecycleTests(ZooKeeperClusterFixture cluster) : JobLifecycleTests(cluster);

/// <summary>The job life cycle on etcd.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdJobLifecycleTests(EtcdClusterFixture cluster) : JobLifecycleTests(cluster);
