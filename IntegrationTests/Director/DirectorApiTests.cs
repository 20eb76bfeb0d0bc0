using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>
/// The director's REST API against a real store: one subclass per backend, so both answer alike. Each test hosts
/// its own director(s) under its own store root. Concerns are split over the partial files beside this one.
/// </summary>
public abstract partial class DirectorApiTests : IAsyncLifetime
{
    /// <summary>Deadline for things that happen at once unless broken.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly List<IAsyncDisposable> _owned = [];
    private DirectorHost? _director;

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client endpoints.</summary>
    protected abstract string Endpoints { get; }

    /// <summary>A store root unique to the running test.</summary>
    protected string Root { get; } = "t/" + TestNames.Unique("director");

    /// <summary>The test's director.</summary>
    protected DirectorHost Director => _director ?? throw new InvalidOperationException("Not initialized.");

    /// <summary>A client of <see cref="Director"/> with the full token.</summary>
    protected HttpClient Client => Director.Client;

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        _director = StartDirector();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception ex) when (ex is StoreException or ObjectDisposedException or OperationCanceledException)
            {
                // Closing after the test is best effort.
            }
        }
    }

    /// <summary>Another director on the same store root; with <paramref name="runtime"/> it also campaigns and schedules.</summary>
    protected DirectorHost StartDirector(bool runtime = false, IReadOnlyDictionary<string, string>? settings = null) =>
        Own(new DirectorHost(Backend, Endpoints, Root, runtime, settings));

    /// <summary>A store connection of the test's own, on the director's root, to write what agents and leaders would.</summary>
    protected async Task<ICoordinationStore> ConnectStoreAsync()
    {
        var options = new StoreOptions { Backend = Backend, Endpoints = Endpoints, Root = Root, SessionTimeout = TimeSpan.FromSeconds(4) };
        return Own(await options.ConnectAsync());
    }

    /// <summary>Disposes <paramref name="owned"/> after the test.</summary>
    protected T Own<T>(T owned)
        where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>A shell job spec as a client would send it.</summary>
    protected static object ShellJob(string name = "echo", string? group = null) =>
        new { name, executor = "shell", command = new[] { "/bin/echo", name }, group };

    /// <summary>Submits <paramref name="spec"/> (any JSON-serializable object) with an optional idempotency key.</summary>
    protected static async Task<HttpResponseMessage> PostJobAsync(HttpClient client, object spec, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(spec) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Submits a job that must be accepted, and returns it.</summary>
    protected async Task<JobView> SubmitAsync(object? spec = null, HttpClient? client = null)
    {
        using var response = await PostJobAsync(client ?? Client, spec ?? ShellJob());
        Assert.True(
            response.StatusCode == HttpStatusCode.Created,
            $"the submission was answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await ReadAsync<JobView>(response);
    }

    /// <summary>Reads a contract body.</summary>
    protected static async Task<T> ReadAsync<T>(HttpResponseMessage response)
        where T : class => ContractJson.Deserialize<T>(await response.Content.ReadAsByteArrayAsync());

    /// <summary>The <c>X-Revision</c> header.</summary>
    protected static long RevisionOf(HttpResponseMessage response) =>
        long.Parse(Assert.Single(response.Headers.GetValues("X-Revision")), CultureInfo.InvariantCulture);

    /// <summary>Asserts a problem+json answer with <paramref name="status"/> and returns its body.</summary>
    protected static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        Assert.Equal((int)status, document.RootElement.GetProperty("status").GetInt32());
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a 400 whose <c>errors</c> name <paramref name="field"/>.</summary>
    protected static async Task AssertFieldErrorAsync(HttpResponseMessage response, string field)
    {
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"Expected an error for '{field}', got {errors}");
        Assert.NotEqual(0, messages.GetArrayLength());
    }

    /// <summary>Writes a job record directly, as the leader would.</summary>
    protected static async Task<JobRecord> WriteJobAsync(ICoordinationStore store, JobState state, string? workerId = null)
    {
        var job = new JobRecord
        {
            Id = JobIds.New(),
            Spec = new JobSpec { Executor = "shell", Command = ["/bin/true"] },
            State = state,
            WorkerId = workerId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishedAt = state.IsTerminal() ? DateTimeOffset.UtcNow : null,
        };
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job)));
        Assert.True(result.Succeeded);
        return job;
    }
}
