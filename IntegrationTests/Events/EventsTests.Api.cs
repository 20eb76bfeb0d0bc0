using System.Net;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Events;
using ControlPlane.IntegrationTests.Director;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>Filters, bad parameters, the subscriber cap, tokens, and undrain.</summary>
public abstract partial class EventsTests
{
    [Fact]
    public async Task Filters_select_jobs_by_id_state_and_group_and_workers_by_type()
    {
        var director = StartDirector();
        var store = await ConnectStoreAsync();
        await Eventually.UntilAsync(() => director.Service<EventHub>().Revision > 0, Deadline);
        var a = await SubmitAsync(director.Client, new { name = "a", executor = "echo", group = "g1" });
        await using var byJob = await SseClient.OpenAsync(director.Client, $"?job={a.Id}");
        await using var byState = await SseClient.OpenAsync(director.Client, "?state=cancelled");
        await using var byType = await SseClient.OpenAsync(director.Client, "?type=worker");
        await using var byGroup = await SseClient.OpenAsync(director.Client, "?group=g1");
        await using var byWorker = await SseClient.OpenAsync(director.Client, "?worker=w-2");

        var b = await SubmitAsync(director.Client, new { name = "b", executor = "echo" });
        await RegisterWorkerAsync(store, "w-1");
        Assert.True((await director.Client.DeleteAsync($"/v1/jobs/{b.Id}")).IsSuccessStatusCode);
        var c = await SubmitAsync(director.Client, new { name = "c", executor = "echo", group = "g1" });
        await RegisterWorkerAsync(store, "w-2");
        // The last change: every job filter's sentinel.
        Assert.True((await director.Client.DeleteAsync($"/v1/jobs/{a.Id}")).IsSuccessStatusCode);

        bool ACancelled(SseEvent e) => e.Key == a.Id && e.JobState == "Cancelled";
        var seen = new List<SseEvent>();
        Assert.True(await ReadUntilAsync(byJob, seen, ACancelled, Deadline, "job a cancelled"));
        Assert.All(seen, e => Assert.Equal(a.Id, e.Key));

        seen.Clear();
        Assert.True(await ReadUntilAsync(byState, seen, ACancelled, Deadline, "job a cancelled"));
        Assert.All(seen, e => Assert.Equal("Cancelled", e.JobState));
        Assert.Equal([b.Id, a.Id], seen.Select(e => e.Key));

        seen.Clear();
        Assert.True(await ReadUntilAsync(byGroup, seen, ACancelled, Deadline, "job a cancelled"));
        Assert.All(seen, e => Assert.Equal("g1", e.Data.GetProperty("job").GetProperty("spec").GetProperty("group").GetString()));
        Assert.Contains(seen, e => e.Key == c.Id);

        seen.Clear();
        Assert.True(await ReadUntilAsync(byType, seen, e => e.Key == "w-2", Deadline, "worker w-2"));
        Assert.All(seen, e => Assert.Equal("worker", e.Type));
        Assert.Equal(["w-1", "w-2"], seen.Select(e => e.Key));
        Assert.Equal("ready", seen[0].Data.GetProperty("worker").GetProperty("state").GetString());

        seen.Clear();
        Assert.True(await ReadUntilAsync(byWorker, seen, e => e.Key == "w-2", Deadline, "worker w-2"));
        Assert.Single(seen);
    }

    [Theory]
    [InlineData("?state=Bogus", "state")]
    [InlineData("?job=not-a-job", "job")]
    [InlineData("?type=jobs", "type")]
    [InlineData("?worker=a%20b", "worker")]
    [InlineData("?group=", "group")]
    [InlineData("?since=-1", "since")]
    [InlineData("?since=12abc", "since")]
    public async Task A_bad_parameter_is_a_400_naming_it(string query, string field)
    {
        var director = StartDirector();
        using var response = await SseClient.SendAsync(director.Client, query);
        await AssertFieldErrorAsync(response, field);
    }

    [Fact]
    public async Task A_bad_Last_Event_ID_is_a_400_naming_it_and_a_subscriber_beyond_the_cap_a_503()
    {
        var director = StartDirector(settings: new Dictionary<string, string> { ["Events:MaxSubscribers"] = "1" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", "yesterday");
        using (var bad = await director.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            await AssertFieldErrorAsync(bad, "Last-Event-ID");
        }

        await Eventually.UntilAsync(() => director.Service<EventHub>().Revision > 0, Deadline);
        await using var one = await SseClient.OpenAsync(director.Client);
        using var two = await SseClient.SendAsync(director.Client);
        var problem = await AssertProblemAsync(two, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Events:MaxSubscribers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(two.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_resume_from_before_the_directors_history_gets_a_resync()
    {
        var director = StartDirector(settings: new Dictionary<string, string> { ["Events:HistorySize"] = "4" });
        await Eventually.UntilAsync(() => director.Service<EventHub>().Revision > 0, Deadline);
        var first = await SubmitAsync(director.Client, new { name = "x0", executor = "echo" });
        var last = first;
        for (var i = 1; i < 8; i++)
        {
            last = await SubmitAsync(director.Client, new { name = $"x{i}", executor = "echo" });
        }

        // Every submission's event is in the history (of 4) by then: the first was pushed out.
        await Eventually.UntilAsync(() => director.Service<EventHub>().Revision >= last.Revision, Deadline);
        await using var stream = await SseClient.OpenAsync(director.Client, $"?since={first.Revision}");
        var next = await stream.NextAsync(new CancellationTokenSource(Deadline).Token);
        Assert.NotNull(next);
        Assert.Equal("resync", next.Type);
        Assert.Contains("older than this director's history", next.Data.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(next.Revision, next.Id);
    }

    [Fact]
    public async Task A_read_only_token_may_subscribe_but_not_undrain_and_undrain_takes_the_drain_request_back()
    {
        var director = await StartReadyDirectorAsync();
        var store = await ConnectStoreAsync();
        await RegisterWorkerAsync(store, "w-u");
        using var readOnly = director.CreateClient(DirectorHost.ReadOnlyToken);
        await using (var stream = await SseClient.OpenAsync(readOnly))
        {
        }

        using (var refused = await readOnly.PostAsync("/v1/workers/w-u/undrain", null))
        {
            await AssertProblemAsync(refused, HttpStatusCode.Forbidden);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await director.Client.PostAsync("/v1/workers/w-u/drain", null)).StatusCode);
        Assert.NotNull(await store.GetAsync(StoreLayout.Drain("w-u")));

        using (var undrained = await director.Client.PostAsync("/v1/workers/w-u/undrain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, undrained.StatusCode);
            await store.SyncAsync(long.Parse(Assert.Single(undrained.Headers.GetValues("X-Revision")), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Null(await store.GetAsync(StoreLayout.Drain("w-u")));
        // Idempotent: nothing left to take back is still a success.
        Assert.Equal(HttpStatusCode.Accepted, (await director.Client.PostAsync("/v1/workers/w-u/undrain", null)).StatusCode);
        using (var unknown = await director.Client.PostAsync("/v1/workers/w-nobody/undrain", null))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        using (var bad = await director.Client.PostAsync("/v1/workers/a%20b/undrain", null))
        {
            await AssertFieldErrorAsync(bad, "id");
        }
    }

    [Fact]
    public async Task Undraining_an_agent_that_is_still_finishing_a_job_keeps_it_registered_and_ready()
    {
        var director = await StartReadyDirectorAsync(runtime: true);
        var workerId = await StartAgentAsync(slots: 2);
        var store = await ConnectStoreAsync();
        var job = await SubmitAsync(director.Client, new { name = "long", executor = "sleep", args = new { seconds = 20 } });
        await Eventually.UntilAsync(async () => (await GetJobStateAsync(director.Client, job.Id)) == "Running", Deadline);

        Assert.Equal(HttpStatusCode.Accepted, (await director.Client.PostAsync($"/v1/workers/{workerId}/drain", null)).StatusCode);
        await Eventually.UntilAsync(async () => await ReadWorkerAsync(store, workerId) is { Draining: true }, Deadline);
        Assert.Equal(HttpStatusCode.Accepted, (await director.Client.PostAsync($"/v1/workers/{workerId}/undrain", null)).StatusCode);

        // The agent takes the drain back: its registration stops saying draining, and it takes new work.
        await Eventually.UntilAsync(async () => await ReadWorkerAsync(store, workerId) is { Draining: false }, Deadline);
        var next = await SubmitAsync(director.Client, new { name = "after", executor = "echo" });
        await Eventually.UntilAsync(async () => (await GetJobStateAsync(director.Client, next.Id)) == "Succeeded", Deadline);
        Assert.NotNull(await store.GetAsync(StoreLayout.Worker(workerId)));
    }

    private static async Task<WorkerRecord?> ReadWorkerAsync(ICoordinationStore store, string workerId) =>
        await store.GetAsync(StoreLayout.Worker(workerId)) is { } item ? ContractJson.Deserialize<WorkerRecord>(item.Value.Span) : null;

    private static async Task<string?> GetJobStateAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/jobs/{id}");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("state").GetString();
    }

    private static async Task RegisterWorkerAsync(ICoordinationStore store, string workerId)
    {
        var record = new WorkerRecord { Id = workerId, Host = "test", Slots = 1, Executors = ["echo"], ProtocolVersion = Protocol.Version, StartedAt = DateTimeOffset.UtcNow };
        Assert.True((await store.CommitAsync(new Transaction().Create(StoreLayout.Worker(workerId), ContractJson.Serialize(record), ephemeral: true))).Succeeded);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static async Task AssertFieldErrorAsync(HttpResponseMessage response, string field)
    {
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"Expected an error for '{field}', got {problem}");
    }
}
