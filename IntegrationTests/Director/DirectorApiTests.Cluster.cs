using System.Net;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Workers_list_shows_load_and_state_and_drain_marks_a_registered_worker()
    {
        var agent = await ConnectStoreAsync();
        var running = new AssignmentRecord { JobId = JobIds.New(), Attempt = 1, Slots = 2, State = AttemptState.Running };
        var finished = new AssignmentRecord { JobId = JobIds.New(), Attempt = 1, Slots = 1, State = AttemptState.Succeeded };
        // w-1 reports its load in its registration (workerHeartbeat); w-2 is an older agent that does not.
        var worker = new WorkerRecord
        {
            Id = "w-1", Host = "box", Slots = 4, Executors = ["shell"], Features = ["cancel", "workerHeartbeat"], StartedAt = DateTimeOffset.UtcNow,
            SlotsUsed = 2, HeartbeatAt = DateTimeOffset.UtcNow, Running = [$"{running.JobId}.1"],
        };
        var written = await agent.CommitAsync(new Transaction()
            .Create(StoreLayout.Worker("w-1"), ContractJson.Serialize(worker), ephemeral: true)
            .Create(StoreLayout.Worker("w-2"), ContractJson.Serialize(worker with { Id = "w-2", Features = ["cancel"], SlotsUsed = null, HeartbeatAt = null, Running = null }), ephemeral: true)
            .Create(StoreLayout.Assignment("w-1", running.JobId, 1), ContractJson.Serialize(running))
            .Create(StoreLayout.Assignment("w-1", finished.JobId, 1), ContractJson.Serialize(finished))
            .Create(StoreLayout.Suspect("w-2"), ContractJson.Serialize(new SuspectRecord { Since = DateTimeOffset.UtcNow, Reason = "test" })));
        Assert.True(written.Succeeded);

        var workers = await ListWorkersAsync();
        var w1 = Assert.Single(workers, w => w.Id == "w-1");
        Assert.Equal(4, w1.Slots);
        Assert.Equal(2, w1.SlotsUsed);
        Assert.Equal("ready", w1.State);
        Assert.Equal(["shell"], w1.Capabilities.Executors);
        Assert.NotNull(w1.HeartbeatAt);
        var w2 = Assert.Single(workers, w => w.Id == "w-2");
        Assert.Equal("suspect", w2.State);
        Assert.Null(w2.SlotsUsed);

        using (var bad = await Client.GetAsync("/v1/workers?limit=0&cursor=not-ours!"))
        {
            await AssertFieldErrorAsync(bad, "limit");
        }

        using (var badCursor = await Client.GetAsync("/v1/workers?cursor=not-ours!"))
        {
            await AssertFieldErrorAsync(badCursor, "cursor");
        }

        using (var firstPage = await Client.GetAsync("/v1/workers?limit=1"))
        {
            var page = ContractJson.Deserialize<WorkerPage>(await firstPage.Content.ReadAsByteArrayAsync());
            Assert.Equal("w-1", Assert.Single(page.Items).Id);
            Assert.NotNull(page.Cursor);
            Assert.True(firstPage.Headers.Contains("X-Revision"));
            using var second = await Client.GetAsync($"/v1/workers?limit=1&cursor={Uri.EscapeDataString(page.Cursor)}");
            Assert.Equal("w-2", Assert.Single(ContractJson.Deserialize<WorkerPage>(await second.Content.ReadAsByteArrayAsync()).Items).Id);
        }

        using (var drain = await Client.PostAsync("/v1/workers/w-1/drain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, drain.StatusCode);
        }

        Assert.NotNull(await agent.GetAsync(StoreLayout.Drain("w-1")));
        Assert.Equal("draining", Assert.Single(await ListWorkersAsync(), w => w.Id == "w-1").State);

        using (var again = await Client.PostAsync("/v1/workers/w-1/drain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }

        using (var unknown = await Client.PostAsync("/v1/workers/nobody/drain", null))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        using (var invalid = await Client.PostAsync("/v1/workers/bad!id/drain", null))
        {
            await AssertFieldErrorAsync(invalid, "id");
        }
    }

    [Fact]
    public async Task Leader_is_503_without_candidates_and_the_oldest_candidate_once_one_runs()
    {
        using (var none = await Client.GetAsync("/v1/leader"))
        {
            await AssertProblemAsync(none, HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(none.Headers.RetryAfter);
        }

        var store = await ConnectStoreAsync();
        var record = new DirectorRecord { Id = "d-test", Url = "http://127.0.0.1:1", Version = "t", StartedAt = DateTimeOffset.UtcNow };
        var registered = await store.CommitAsync(new Transaction().Create(StoreLayout.Director("d-test"), ContractJson.Serialize(record), ephemeral: true));
        Assert.True(registered.Succeeded);
        var election = Own(new LeaderElection(store, new LeaderElectionOptions { ElectionKey = StoreLayout.Election, CandidateValue = ContractJson.Serialize(record) }));
        election.Start();
        var leadership = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "the test's candidate leads");

        using (var response = await Client.GetAsync("/v1/leader"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var leader = await ReadAsync<LeaderView>(response);
            Assert.Equal("d-test", leader.DirectorId);
            Assert.Equal("http://127.0.0.1:1", leader.Url);
            Assert.Equal(leadership.Epoch, leader.Epoch);
        }

        using var cluster = await Client.GetAsync("/v1/cluster");
        Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
        var view = await ReadAsync<ClusterView>(cluster);
        // The test's candidate and the director under test itself (registered, but not campaigning).
        Assert.Contains(view.Directors, d => d.Id == "d-test");
        Assert.Equal(2, view.Directors.Count);
        Assert.Equal("d-test", view.Leader?.DirectorId);
        Assert.Equal(Backend, view.Store.Backend);
        Assert.Equal(Root, view.Store.Root);
        Assert.True(view.Store.Revision >= leadership.Epoch);
        Assert.Equal("Connected", view.Store.SessionState);
        Assert.True(view.Store.SessionTimeoutSeconds > 0);
    }

    [Fact]
    public async Task A_director_with_its_runtime_leads_and_names_itself_in_leader_and_cluster()
    {
        var leading = StartDirector(runtime: true);
        using var client = leading.CreateClient(DirectorHost.Token);
        var id = leading.Service<ControlPlane.Director.Hosting.DirectorIdentity>().Id;

        await Eventually.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/v1/leader");
            return response.StatusCode == HttpStatusCode.OK && (await ReadAsync<LeaderView>(response)).DirectorId == id;
        }, Deadline);

        await Eventually.UntilAsync(async () =>
        {
            using var response = await Client.GetAsync("/v1/cluster");
            return (await ReadAsync<ClusterView>(response)).Directors.Any(d => d.Id == id);
        }, Deadline);

        // The scheduler's instruments are on the director's meter, so /metrics exports them beside the API's.
        await Eventually.UntilAsync(
            async () => MetricsScrape.Parse(await client.GetStringAsync("/metrics")).Value("controlplane_scheduler_leader") == 1,
            Deadline);
    }

    [Fact]
    public async Task Operational_endpoints_report_readiness_metrics_and_the_openapi_document()
    {
        await Eventually.UntilAsync(async () =>
        {
            using var ready = await Client.GetAsync("/readyz");
            return ready.StatusCode == HttpStatusCode.OK;
        }, Deadline);
        await SubmitAsync();

        using var unauthenticated = Director.CreateClient(token: null);
        using var answer = await unauthenticated.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/plain", answer.Content.Headers.ContentType?.MediaType);
        var metrics = MetricsScrape.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal(1, metrics.Value("controlplane_jobs_submitted_total"));
        Assert.Equal("histogram", metrics.Types["controlplane_api_request_duration_seconds"]);
        Assert.Equal(1, metrics.Value("controlplane_api_requests_total", ("method", "POST"), ("route", "/v1/jobs"), ("status", "201")));

        using var document = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json"));
        var root = document.RootElement;
        Assert.True(root.GetProperty("paths").TryGetProperty("/v1/jobs/{id}", out _));
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());

        using var missing = await Client.GetAsync("/v1/no-such-thing");
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    private async Task<List<WorkerView>> ListWorkersAsync()
    {
        using var response = await Client.GetAsync("/v1/workers");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. ContractJson.Deserialize<WorkerPage>(await response.Content.ReadAsByteArrayAsync()).Items];
    }
}
