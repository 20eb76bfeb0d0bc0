using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Workflows through the REST API with real directors and agents (issue 19): a diamond submitted at once with refs
/// runs in order and reads back as a graph; a repeat with the same Idempotency-Key is the same workflow; failure
/// propagates inside it; cancelling stops what has not run; a submission that stopped half-way never runs anything
/// (the leader aborts it); every bad input is refused naming its field and nothing is created. One subclass per backend.
/// </summary>
public abstract class WorkflowTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ClusterFixture _cluster;

    protected WorkflowTests(ClusterFixture cluster) => _cluster = cluster;

    private DirectorClient Api => _cluster.Api;

    private static WorkflowNode Node(string nodeRef, string script, params (string Ref, DependencyCondition On)[] after) => new()
    {
        Ref = nodeRef,
        Job = new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", script],
            MaxAttempts = 1,
            DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Ref = a.Ref, On = a.On })],
        },
    };

    private static (string, DependencyCondition) Ok(string nodeRef) => (nodeRef, DependencyCondition.Success);

    [Fact]
    public async Task A_diamond_submitted_at_once_runs_in_order_reads_back_as_a_graph_and_a_repeat_is_the_same_workflow()
    {
        var spec = new WorkflowSpec
        {
            Name = "diamond",
            Jobs = [Node("d", "true", Ok("b"), Ok("c")), Node("b", "sleep 0.2", Ok("a")), Node("c", "sleep 0.1", Ok("a")), Node("a", "sleep 0.3")],
        };
        var key = "diamond-" + Guid.NewGuid();

        var submitted = await Api.SubmitWorkflowAsync(spec, key);

        Assert.Equal((WorkflowState.Committed, 4), (submitted.State, submitted.Jobs.Count));
        Assert.All(submitted.Jobs, n => Assert.Equal(JobState.Waiting, n.State));
        var replay = await _cluster.Directors[1].Client.SubmitWorkflowAsync(spec, key);
        Assert.Equal(submitted.Id, replay.Id);
        Assert.Equal(submitted.Jobs.Select(n => n.Job), replay.Jobs.Select(n => n.Job));

        var done = await Eventually.UntilAsync(() => Api.GetWorkflowAsync(submitted.Id), w => w!.Finished, Deadline);
        Assert.All(done!.Jobs, n => Assert.Equal(JobState.Succeeded, n.State));
        Assert.Equal(4, done.Counts[nameof(JobState.Succeeded)]);
        var byRef = done.Jobs.ToDictionary(n => n.Ref!, StringComparer.Ordinal);
        Assert.Equal(["b", "c"], byRef["d"].DependsOn.Select(d => d.Ref).Order(StringComparer.Ordinal));
        Assert.Equal(byRef["a"].Job, Assert.Single(byRef["b"].DependsOn).Job);
        var job = await Api.GetJobAsync(byRef["d"].Job);
        Assert.Equal((submitted.Id, "d"), (job!.WorkflowId, job.WorkflowRef));

        var runs = Runs(done);
        Assert.All(done.Jobs, n => Assert.Single(runs, r => r.Start.JobId == n.Job));
        AssertAfter(runs, byRef["b"], byRef["a"]);
        AssertAfter(runs, byRef["c"], byRef["a"]);
        AssertAfter(runs, byRef["d"], byRef["b"], byRef["c"]);
    }

    [Fact]
    public async Task A_failed_node_skips_what_needs_its_success_transitively_and_runs_its_failure_path()
    {
        var external = await Api.SubmitAsync(new JobSpec { Executor = "echo" });
        var spec = new WorkflowSpec
        {
            Jobs =
            [
                new WorkflowNode { Ref = "extract", Job = new JobSpec { Executor = "shell", Command = ["/bin/sh", "-c", "exit 3"], MaxAttempts = 1, DependsOn = [new JobDependency { Job = external.Id }] } },
                Node("load", "true", Ok("extract")),
                Node("report", "true", Ok("load")),
                Node("alert", "echo alerting", ("extract", DependencyCondition.Failure)),
            ],
        };

        var submitted = await Api.SubmitWorkflowAsync(spec);
        var done = await Eventually.UntilAsync(() => Api.GetWorkflowAsync(submitted.Id), w => w!.Finished, Deadline);

        var byRef = done!.Jobs.ToDictionary(n => n.Ref!, StringComparer.Ordinal);
        Assert.Equal(JobState.Failed, byRef["extract"].State);
        Assert.Equal(JobState.Skipped, byRef["load"].State);
        Assert.Contains($"dependency {byRef["extract"].Job} ended Failed", byRef["load"].Error, StringComparison.Ordinal);
        Assert.Equal(JobState.Skipped, byRef["report"].State);
        Assert.Equal(JobState.Succeeded, byRef["alert"].State);
        Assert.DoesNotContain(Runs(done), r => r.Start.JobId == byRef["load"].Job || r.Start.JobId == byRef["report"].Job);
    }

    [Fact]
    public async Task Cancelling_a_workflow_stops_its_running_job_and_cancels_or_skips_everything_that_has_not_run()
    {
        var spec = new WorkflowSpec
        {
            Jobs =
            [
                new WorkflowNode { Ref = "long", Job = new JobSpec { Executor = "sleep", Args = JsonDocument.Parse("""{"seconds":60}""").RootElement } },
                Node("next", "true", Ok("long")),
                Node("other", "true", Ok("next")),
            ],
        };
        var submitted = await Api.SubmitWorkflowAsync(spec);
        var longJob = submitted.Jobs.Single(n => n.Ref == "long").Job;
        await Eventually.UntilAsync(() => Api.GetJobAsync(longJob), j => j!.State == JobState.Running, Deadline);

        using var response = await Api.Http.DeleteAsync(new Uri($"/v1/workflows/{submitted.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var view = await response.Content.ReadFromJsonAsync<WorkflowView>(ContractJson.Options);
        Assert.True(view!.CancelRequested);

        var done = await Eventually.UntilAsync(() => Api.GetWorkflowAsync(submitted.Id), w => w!.Finished, Deadline);
        Assert.All(done!.Jobs, n => Assert.True(n.State is JobState.Cancelled or JobState.Skipped, $"{n.Ref} ended {n.State}"));
        Assert.Equal(JobState.Cancelled, done.Jobs.Single(n => n.Ref == "long").State);
        Assert.DoesNotContain(Runs(done), r => r.Start.JobId != longJob);
    }

    [Fact]
    public async Task A_submission_that_stopped_half_way_never_runs_anything_the_leader_aborts_it_and_its_jobs_end_Skipped()
    {
        // What a director that died between two chunks leaves: the record still staging, past its time, and one chunk.
        var workflowId = WorkflowIds.New();
        var spec = new WorkflowSpec { Jobs = [Node("a", "true"), Node("b", "true", Ok("a"))] };
        var now = DateTimeOffset.UtcNow;
        var staged = new WorkflowRecord
        {
            Id = workflowId, State = WorkflowState.Staging, Nodes = 2, CreatedAt = now.AddMinutes(-5), StagingUntil = now.AddMinutes(-1), SpecHash = "x",
        };
        var written = WorkflowValidator.Resolve(spec, workflowId)[0];
        var job = new JobRecord
        {
            Id = written.JobId, Spec = written.Spec, State = JobState.Waiting, CreatedAt = now, WorkflowId = workflowId, WorkflowRef = written.Ref,
        };
        await using (var store = await new StoreOptions { Backend = _cluster.Target.Backend, Endpoints = _cluster.Target.Endpoints, Root = _cluster.Target.Root }.ConnectAsync())
        {
            var result = await store.CommitAsync(new Transaction()
                .Create(StoreLayout.Workflow(workflowId), ContractJson.Serialize(staged))
                .Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job)));
            Assert.True(result.Succeeded);
        }

        var skipped = await Api.WaitForTerminalAsync(job.Id, Deadline);

        Assert.Equal(JobState.Skipped, skipped.State);
        Assert.Contains($"workflow {workflowId} was aborted", skipped.Error, StringComparison.Ordinal);
        var view = await Api.GetWorkflowAsync(workflowId);
        Assert.Equal(WorkflowState.Aborted, view!.State);
        Assert.Contains("not committed", view.Error, StringComparison.Ordinal);
        Assert.Equal(1, view.Counts["Removed"]); // the node never written
        Assert.DoesNotContain(ExecutionLog.Read(_cluster.Apps.ExecutionLogs), e => e.JobId == job.Id);
    }

    [Fact]
    public async Task A_keyed_repeat_resumes_a_submission_that_stopped_half_way_and_every_job_runs_once()
    {
        // What a director that died after its first chunk and part of its second leaves behind (a director of another
        // build chunks differently), for 120 nodes (three chunks of 50): chunk 1 whole, chunk 2 in part.
        const int nodes = 120;
        var key = "resume-" + Guid.NewGuid();
        var workflowId = WorkflowIds.ForKey(key);
        // A fan (every node after n0 needs n0) rather than a chain: dependencies still cross chunks, and the run does not take
        // 120 passes one after another.
        var spec = new WorkflowSpec { Jobs = [.. Enumerable.Range(0, nodes).Select(i => i == 0 ? Node("n0", "true") : Node($"n{i}", "true", Ok("n0")))] };
        var normalized = spec with { Jobs = [.. spec.Jobs.Select(n => n with { Job = JobSpecValidator.Normalize(n.Job) })] };
        var now = DateTimeOffset.UtcNow;
        var staged = new WorkflowRecord
        {
            Id = workflowId, State = WorkflowState.Staging, Nodes = nodes, CreatedAt = now, StagingUntil = now.AddMinutes(2),
            SpecHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ContractJson.Serialize(normalized))),
        };
        var firstChunk = WorkflowValidator.Resolve(spec, workflowId).Take(75).Select(n => new JobRecord
        {
            Id = n.JobId, Spec = n.Spec, State = JobState.Waiting, CreatedAt = now, WorkflowId = workflowId, WorkflowRef = n.Ref,
        }).ToList();
        await using (var store = await new StoreOptions { Backend = _cluster.Target.Backend, Endpoints = _cluster.Target.Endpoints, Root = _cluster.Target.Root }.ConnectAsync())
        {
            Assert.True((await store.CommitAsync(new Transaction().Create(StoreLayout.Workflow(workflowId), ContractJson.Serialize(staged)))).Succeeded);
            foreach (var written in firstChunk.Chunk(50))
            {
                var chunk = new Transaction();
                Array.ForEach(written, j => chunk.Create(StoreLayout.Job(j.Id), ContractJson.Serialize(j)));
                Assert.True((await store.CommitAsync(chunk)).Succeeded);
            }
        }

        var resumed = await Api.SubmitWorkflowAsync(spec, key);

        Assert.Equal((workflowId, WorkflowState.Committed, nodes), (resumed.Id, resumed.State, resumed.Jobs.Count));
        var done = await Eventually.UntilAsync(() => Api.GetWorkflowAsync(workflowId), w => w!.Finished, Deadline);
        Assert.All(done!.Jobs, n => Assert.Equal(JobState.Succeeded, n.State));
        var runs = Runs(done);
        Assert.All(done.Jobs, n => Assert.Single(runs, r => r.Start.JobId == n.Job));
    }

    [Fact]
    public async Task A_submission_past_its_staging_time_is_aborted_by_its_director_at_once_and_answered_503()
    {
        // A keyed repeat of a submission whose staging time ran out a moment ago (its chunks took too long): the
        // director aborts it itself, well before the leader would (stagingUntil + 30 s), and says why.
        var key = "late-" + Guid.NewGuid();
        var workflowId = WorkflowIds.ForKey(key);
        var spec = new WorkflowSpec { Jobs = [Node("a", "true"), Node("b", "true", Ok("a"))] };
        var normalized = spec with { Jobs = [.. spec.Jobs.Select(n => n with { Job = JobSpecValidator.Normalize(n.Job) })] };
        var now = DateTimeOffset.UtcNow;
        var staged = new WorkflowRecord
        {
            Id = workflowId, State = WorkflowState.Staging, Nodes = 2, CreatedAt = now.AddMinutes(-2), StagingUntil = now.AddSeconds(-1),
            SpecHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ContractJson.Serialize(normalized))),
        };
        var first = WorkflowValidator.Resolve(spec, workflowId)[0];
        var job = new JobRecord { Id = first.JobId, Spec = first.Spec, State = JobState.Waiting, CreatedAt = now, WorkflowId = workflowId, WorkflowRef = first.Ref };
        await using (var store = await new StoreOptions { Backend = _cluster.Target.Backend, Endpoints = _cluster.Target.Endpoints, Root = _cluster.Target.Root }.ConnectAsync())
        {
            Assert.True((await store.CommitAsync(new Transaction()
                .Create(StoreLayout.Workflow(workflowId), ContractJson.Serialize(staged))
                .Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job)))).Succeeded);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/workflows") { Content = JsonContent.Create(spec, options: ContractJson.Options) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await Api.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("staging time", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var view = await Api.GetWorkflowAsync(workflowId);
        Assert.Equal(WorkflowState.Aborted, view!.State);
        var skipped = await Api.WaitForTerminalAsync(job.Id, Deadline);
        Assert.Equal(JobState.Skipped, skipped.State);
        Assert.DoesNotContain(ExecutionLog.Read(_cluster.Apps.ExecutionLogs), e => e.JobId == job.Id);
    }

    [Fact]
    public async Task Two_keyed_submissions_of_the_same_workflow_at_once_both_get_it_and_every_job_runs_once()
    {
        // A client that timed out and repeated while its first request was still writing: whichever commits, both
        // answers are the workflow (never "not committed" for a workflow that runs).
        var key = "twin-" + Guid.NewGuid();
        var spec = new WorkflowSpec { Jobs = [.. Enumerable.Range(0, 300).Select(i => i == 0 ? Node("n0", "true") : Node($"n{i}", "true", Ok($"n{(i - 1) / 2}")))] };

        var both = await Task.WhenAll(Api.SubmitWorkflowAsync(spec, key), _cluster.Directors[1].Client.SubmitWorkflowAsync(spec, key));

        Assert.Equal(both[0].Id, both[1].Id);
        Assert.All(both, w => Assert.Equal(WorkflowState.Committed, w.State));
        var done = await Eventually.UntilAsync(() => Api.GetWorkflowAsync(both[0].Id), w => w!.Finished, Deadline);
        Assert.All(done!.Jobs, n => Assert.Equal(JobState.Succeeded, n.State));
        var runs = Runs(done);
        Assert.All(done.Jobs, n => Assert.Single(runs, r => r.Start.JobId == n.Job));
    }

    [Fact]
    public async Task Bad_workflows_are_refused_naming_the_field_and_nothing_is_created()
    {
        var before = (await Api.AllJobsAsync()).Count;
        object Job(params object[] dependsOn) => new { executor = "echo", dependsOn = dependsOn.Length == 0 ? null : dependsOn };

        await AssertFieldsAsync(new { jobs = new[] { new { @ref = "a", job = Job(new { @ref = "missing" }) } } }, "jobs[0].job.dependsOn[0].ref");
        await AssertFieldsAsync(new { jobs = new[] { new { @ref = "a", job = Job(new { @ref = "b" }) }, new { @ref = "b", job = Job(new { @ref = "a" }) } } }, "jobs[0].job.dependsOn[0].ref", "cycle");
        await AssertFieldsAsync(new { jobs = new[] { new { @ref = "a", job = Job(new { job = JobIds.New() }) } } }, "jobs[0].job.dependsOn[0].job", "does not exist");
        await AssertFieldsAsync(new { jobs = new[] { new { @ref = "a", job = Job() }, new { @ref = "a", job = Job() } } }, "jobs[1].ref");
        await AssertFieldsAsync(new { jobs = new[] { new { @ref = "a", job = new { executor = "echo", runAt = "next tuesday" } } } }, "jobs[0].job.runAt");
        await AssertFieldsAsync(new { jobs = Array.Empty<object>() }, "jobs");
        using (var plain = await Api.Http.PostAsJsonAsync("/v1/jobs", new { executor = "echo", dependsOn = new[] { new { @ref = "a" } } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
            Assert.Contains("dependsOn[0].ref", await plain.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A keyed submission refused for a missing job leaves no workflow behind either.
        const string key = "refused-workflow";
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/workflows", UriKind.Relative)))
        {
            request.Content = JsonContent.Create(new { jobs = new[] { new { @ref = "a", job = Job(new { job = JobIds.New() }) } } });
            request.Headers.Add("Idempotency-Key", key);
            using var response = await Api.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Null(await Api.GetWorkflowAsync(WorkflowIds.ForKey(key)));
        Assert.Equal(before, (await Api.AllJobsAsync()).Count);
    }

    private async Task AssertFieldsAsync(object body, string field, string? says = null)
    {
        using var response = await Api.Http.PostAsJsonAsync("/v1/workflows", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out var messages), $"no error for {field}: {text}");
        if (says is not null)
        {
            Assert.Contains(says, messages.ToString(), StringComparison.Ordinal);
        }
    }

    /// <summary>Every run of the workflow's jobs in the agents' execution logs, as (start, end) intervals.</summary>
    private IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> Runs(WorkflowView workflow)
    {
        var ids = workflow.Jobs.Select(n => n.Job).ToHashSet(StringComparer.Ordinal);
        return ExecutionLog.Intervals([.. ExecutionLog.Read(_cluster.Apps.ExecutionLogs).Where(e => ids.Contains(e.JobId))]);
    }

    private static void AssertAfter(IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> runs, WorkflowNodeView node, params WorkflowNodeView[] dependencies)
    {
        var start = runs.Single(r => r.Start.JobId == node.Job).Start.Time;
        foreach (var dependency in dependencies)
        {
            var end = runs.Single(r => r.Start.JobId == dependency.Job).End;
            Assert.True(start >= end, $"{node.Ref} started at {start:O}, before its dependency {dependency.Ref} ended at {end:O}");
        }
    }
}

/// <summary>Workflows on ZooKeeper.</summary>
[Collection(ZooKeeperClusterCollection.Name)]
public sealed class ZooKeeperWorkflowTests(ZooKeeperClusterFixture cluster) : WorkflowTests(cluster);

/// <summary>Workflows on etcd.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdWorkflowTests(EtcdClusterFixture cluster) : WorkflowTests(cluster);
