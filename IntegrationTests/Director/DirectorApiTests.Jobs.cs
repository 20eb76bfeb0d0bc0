using System.Net;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Submit_answers_201_with_location_and_revision_and_the_job_reads_back()
    {
        using var response = await PostJobAsync(Client, ShellJob("hello"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var job = await ReadAsync<JobView>(response);
        Assert.True(JobIds.IsValid(job.Id));
        Assert.Equal($"/v1/jobs/{job.Id}", response.Headers.Location?.OriginalString);
        var revision = RevisionOf(response);
        Assert.True(revision > 0);
        Assert.Equal(revision, job.Revision);
        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Equal(["/bin/echo", "hello"], job.Spec.Command);

        using var get = await Client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var read = await ReadAsync<JobView>(get);
        Assert.Equal(job.Id, read.Id);
        Assert.Equal(JobState.Pending, read.State);
        Assert.Equal("hello", read.Spec.Name);
        Assert.True(read.Revision >= revision);
    }

    [Fact]
    public async Task Idempotency_key_replays_the_same_job_and_refuses_another_spec()
    {
        using var first = await PostJobAsync(Client, ShellJob("once"), "key-1 with any characters: ü/?");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var job = await ReadAsync<JobView>(first);

        using var replay = await PostJobAsync(Client, ShellJob("once"), "key-1 with any characters: ü/?");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(job.Id, (await ReadAsync<JobView>(replay)).Id);
        Assert.Equal($"/v1/jobs/{job.Id}", replay.Headers.Location?.OriginalString);

        using var conflict = await PostJobAsync(Client, ShellJob("other"), "key-1 with any characters: ü/?");
        await AssertProblemAsync(conflict, HttpStatusCode.Conflict);

        using var fresh = await PostJobAsync(Client, ShellJob("once"), "key-2");
        Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
        Assert.NotEqual(job.Id, (await ReadAsync<JobView>(fresh)).Id);
    }

    [Fact]
    public async Task Invalid_submissions_answer_400_naming_the_field()
    {
        using (var response = await PostJobAsync(Client, new { command = new[] { "/bin/true" } }))
        {
            await AssertFieldErrorAsync(response, "executor");
        }

        using (var response = await PostJobAsync(Client, new { executor = "shell" }))
        {
            await AssertFieldErrorAsync(response, "command");
        }

        using (var response = await PostJobAsync(Client, new { executor = "shell", command = new[] { "/bin/true" }, slots = 0 }))
        {
            await AssertFieldErrorAsync(response, "slots");
        }

        using (var response = await PostJobAsync(Client, new { executor = "shell", command = new[] { "/bin/true" }, name = new string('n', Limits.MaxNameLength + 1) }))
        {
            await AssertFieldErrorAsync(response, "name");
        }

        using (var response = await PostRawAsync("""{"executor":"shell","command":["/bin/true"],"slots":"many"}"""))
        {
            await AssertFieldErrorAsync(response, "slots");
        }

        using (var response = await PostRawAsync("""{"executor":"shell", "command": ["/bin/true"],"""))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains("line 1", problem.GetProperty("errors").ToString(), StringComparison.Ordinal);
        }

        using (var response = await PostRawAsync("null"))
        {
            await AssertFieldErrorAsync(response, "body");
        }

        using (var response = await Client.GetAsync("/v1/jobs/not-a-job-id"))
        {
            await AssertFieldErrorAsync(response, "id");
        }

        // Unknown executors are fine: any agent may register a handler under any name.
        using (var response = await PostJobAsync(Client, new { executor = "resize-images", args = new { width = 100 } }))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_concurrency_limit_is_kept_with_the_job_and_a_bad_one_answers_400_naming_the_field()
    {
        using (var response = await PostJobAsync(Client, new { executor = "resize-images", concurrency = new { key = "tenant:42", limit = 3 } }))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var job = await ReadAsync<JobView>(response);
            using var read = await Client.GetAsync($"/v1/jobs/{job.Id}");
            Assert.Equal(("tenant:42", 3), ((await ReadAsync<JobView>(read)).Spec.Concurrency!.Key, job.Spec.Concurrency!.Limit));
        }

        using (var response = await PostJobAsync(Client, new { executor = "resize-images", concurrency = new { key = "k", limit = 0 } }))
        {
            await AssertFieldErrorAsync(response, "concurrency.limit");
        }

        using (var response = await PostJobAsync(Client, new { executor = "resize-images", concurrency = new { key = "", limit = 2 } }))
        {
            await AssertFieldErrorAsync(response, "concurrency.key");
        }

        using (var response = await PostJobAsync(Client, new { executor = "resize-images", concurrency = new { key = new string('k', Limits.MaxConcurrencyKeyLength + 1), limit = 2 } }))
        {
            await AssertFieldErrorAsync(response, "concurrency.key");
        }

        using (var response = await PostRawAsync("""{"executor":"resize-images","concurrency":{"key":"k","limit":"many"}}"""))
        {
            await AssertFieldErrorAsync(response, "concurrency.limit");
        }

        using (var response = await PostRawAsync("""{"executor":"resize-images","concurrency":{"key":"k","limit":2,"burst":4}}"""))
        {
            await AssertFieldErrorAsync(response, "concurrency.burst");
        }
    }

    [Fact]
    public async Task A_body_over_the_limit_answers_413()
    {
        var huge = $$"""{"executor":"shell","command":["/bin/echo","{{new string('x', Limits.MaxBodyBytes)}}"]}""";

        using var response = await PostRawAsync(huge);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_assigned_job_whose_agent_started_it_reads_as_running()
    {
        var store = await ConnectStoreAsync();
        var job = await WriteJobAsync(store, JobState.Assigned, "worker-1");
        var started = DateTimeOffset.UtcNow.AddSeconds(-3);
        var assignment = new AssignmentRecord { JobId = job.Id, Attempt = 1, Executor = "shell", State = AttemptState.Assigned };
        var key = StoreLayout.Assignment("worker-1", job.Id, 1);
        Assert.True((await store.CommitAsync(new Transaction().Create(key, ContractJson.Serialize(assignment)))).Succeeded);

        using (var response = await Client.GetAsync($"/v1/jobs/{job.Id}?minRevision={store.SeenRevision}"))
        {
            Assert.Equal(JobState.Assigned, (await ReadAsync<JobView>(response)).State);
        }

        var running = assignment with { State = AttemptState.Running, StartedAt = started };
        var update = await store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(running), 1));
        Assert.True(update.Succeeded);

        using var get = await Client.GetAsync($"/v1/jobs/{job.Id}?minRevision={update.Revision}");
        var view = await ReadAsync<JobView>(get);
        Assert.Equal(JobState.Running, view.State);
        Assert.Equal(started, view.StartedAt);
        Assert.Equal("worker-1", view.WorkerId);

        // Listings overlay alike, so a state filter finds it as Running and not as Assigned.
        using var runningPage = await Client.GetAsync($"/v1/jobs?state=Running&minRevision={update.Revision}");
        Assert.Equal(job.Id, Assert.Single((await ReadAsync<JobPage>(runningPage)).Items).Id);
        using var assigned = await Client.GetAsync("/v1/jobs?state=Assigned");
        Assert.Empty((await ReadAsync<JobPage>(assigned)).Items);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_cancels_it_at_once_and_a_second_cancel_conflicts()
    {
        var job = await SubmitAsync();

        using (var response = await Client.DeleteAsync($"/v1/jobs/{job.Id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var cancelled = await ReadAsync<JobView>(response);
            Assert.Equal(JobState.Cancelled, cancelled.State);
            Assert.Equal(RevisionOf(response), cancelled.Revision);
        }

        using (var get = await Client.GetAsync($"/v1/jobs/{job.Id}"))
        {
            var read = await ReadAsync<JobView>(get);
            Assert.Equal(JobState.Cancelled, read.State);
            Assert.NotNull(read.FinishedAt);
            Assert.Equal("cancelled before it ran", read.Error);
        }

        using (var again = await Client.DeleteAsync($"/v1/jobs/{job.Id}"))
        {
            await AssertProblemAsync(again, HttpStatusCode.Conflict);
        }
    }

    [Fact]
    public async Task Cancelling_unknown_finished_and_assigned_jobs_answers_404_409_and_202()
    {
        using (var unknown = await Client.DeleteAsync($"/v1/jobs/{JobIds.New()}"))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        var store = await ConnectStoreAsync();
        var finished = await WriteJobAsync(store, JobState.Succeeded, "worker-1");
        using (var response = await Client.DeleteAsync($"/v1/jobs/{finished.Id}"))
        {
            await AssertProblemAsync(response, HttpStatusCode.Conflict);
        }

        var assigned = await WriteJobAsync(store, JobState.Assigned, "worker-1");
        using (var response = await Client.DeleteAsync($"/v1/jobs/{assigned.Id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var view = await ReadAsync<JobView>(response);
            Assert.True(view.CancelRequested);
            Assert.Equal(JobState.Assigned, view.State);
        }

        // The flag is in the store for the leader to carry to the agent.
        var record = ContractJson.Deserialize<JobRecord>((await store.GetAsync(StoreLayout.Job(assigned.Id)))!.Value.Span);
        Assert.True(record.CancelRequested);
    }

    private async Task<HttpResponseMessage> PostRawAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await Client.PostAsync("/v1/jobs", content);
    }
}
