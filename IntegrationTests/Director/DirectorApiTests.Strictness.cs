using System.Net;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>Issue 20: unknown fields in request bodies are refused, naming each, on every endpoint, and nothing is written.</summary>
public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task A_submission_with_unknown_fields_answers_400_naming_every_one_and_writes_nothing()
    {
        const string key = "strict-submit";
        using (var response = await SendRawAsync(
            HttpMethod.Post,
            "/v1/jobs",
            """{"executor":"shell","command":["/bin/true"],"maxAttemps":5,"retries":{"max":2},"env":{"A":"1"}}""",
            key))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
            var errors = problem.GetProperty("errors");
            Assert.Equal(["maxAttemps", "retries"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
            // The message lists the known fields, so a typo is easy to see.
            Assert.Contains("maxAttempts", errors.GetProperty("maxAttemps")[0].GetString(), StringComparison.Ordinal);
            Assert.Contains("maxAttemps", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Nothing in the store: no job, and no idempotency record (the key is still free for a correct submission).
        var store = await ConnectStoreAsync();
        Assert.Null(await store.GetAsync(IdempotencyKeys.RecordKey(key)));
        using (var list = await Client.GetAsync("/v1/jobs"))
        {
            Assert.Empty((await ReadAsync<JobPage>(list)).Items);
        }

        using var corrected = await SendRawAsync(HttpMethod.Post, "/v1/jobs", """{"executor":"shell","command":["/bin/true"],"maxAttempts":5}""", key);
        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        Assert.Equal(5, (await ReadAsync<JobView>(corrected)).Spec.MaxAttempts);
    }

    [Fact]
    public async Task Map_keys_and_free_form_args_are_data_not_fields_and_stay_accepted()
    {
        using var response = await SendRawAsync(
            HttpMethod.Post,
            "/v1/jobs",
            """
            {"Executor":"shell","command":["/bin/true"],
             "env":{"maxAttemps":"x","ANY_NAME":"y"},
             "constraints":{"zone":"a","retries":"1"},
             "args":{"whatever":{"deep":[{"fields":true}]}}}
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var job = await ReadAsync<JobView>(response);
        Assert.Equal("x", job.Spec.Env!["maxAttemps"]);
        Assert.Equal("1", job.Spec.Constraints!["retries"]);
    }

    [Fact]
    public async Task A_cancel_with_a_body_answers_400_naming_its_fields_and_leaves_the_job_alone()
    {
        var job = await SubmitAsync();

        using (var response = await SendRawAsync(HttpMethod.Delete, $"/v1/jobs/{job.Id}", """{"reason":"obsolete","force":true}"""))
        {
            var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal(["force", "reason"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        }

        var store = await ConnectStoreAsync();
        var record = ContractJson.Deserialize<JobRecord>((await store.GetAsync(StoreLayout.Job(job.Id)))!.Value.Span);
        Assert.Equal(JobState.Pending, record.State);
        Assert.False(record.CancelRequested);

        // No body, or an empty object, is still a cancel.
        using var empty = await SendRawAsync(HttpMethod.Delete, $"/v1/jobs/{job.Id}", "{}");
        Assert.Equal(HttpStatusCode.Accepted, empty.StatusCode);
    }

    [Fact]
    public async Task A_drain_with_a_body_answers_400_naming_its_fields_and_records_no_drain()
    {
        var agent = await ConnectStoreAsync();
        var worker = new WorkerRecord { Id = "w-strict", Host = "box", Slots = 1, Executors = ["shell"], StartedAt = DateTimeOffset.UtcNow };
        Assert.True((await agent.CommitAsync(new Transaction().Create(StoreLayout.Worker("w-strict"), ContractJson.Serialize(worker), ephemeral: true))).Succeeded);

        using (var response = await SendRawAsync(HttpMethod.Post, "/v1/workers/w-strict/drain", """{"timeout":"5m"}"""))
        {
            await AssertFieldErrorAsync(response, "timeout");
        }

        Assert.Null(await agent.GetAsync(StoreLayout.Drain("w-strict")));

        // Not JSON at all is refused too, rather than ignored.
        using (var text = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/workers/w-strict/drain")
        {
            Content = new StringContent("timeout=5m", Encoding.UTF8, "text/plain"),
        }))
        {
            await AssertProblemAsync(text, HttpStatusCode.UnsupportedMediaType);
        }

        Assert.Null(await agent.GetAsync(StoreLayout.Drain("w-strict")));

        // An empty body with a JSON content type, as some client libraries send, is no body.
        using var empty = await SendRawAsync(HttpMethod.Post, "/v1/workers/w-strict/drain", "");
        Assert.Equal(HttpStatusCode.Accepted, empty.StatusCode);
        Assert.NotNull(await agent.GetAsync(StoreLayout.Drain("w-strict")));
    }

    [Fact]
    public async Task The_openapi_document_states_the_rule_for_bodies()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");

        var submit = paths.GetProperty("/v1/jobs").GetProperty("post");
        Assert.Contains("Unknown fields are refused", submit.GetProperty("requestBody").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("unknown ones included", submit.GetProperty("responses").GetProperty("400").GetProperty("description").GetString(), StringComparison.Ordinal);
        var drain = paths.GetProperty("/v1/workers/{id}/drain").GetProperty("post");
        Assert.Contains("Takes no body", drain.GetProperty("description").GetString(), StringComparison.Ordinal);
        var cancel = paths.GetProperty("/v1/jobs/{id}").GetProperty("delete");
        Assert.Contains("Takes no body", cancel.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await Client.SendAsync(request);
    }
}
