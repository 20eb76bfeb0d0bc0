using System.Net;
using System.Net.Http.Json;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Events;
using ControlPlane.IntegrationTests.Director;
using ControlPlane.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>
/// <c>GET /v1/events</c> and undrain against a real store, directors hosted in the test and a real agent: one subclass per
/// backend. Every wait has a deadline and fails with what was seen.
/// </summary>
public abstract partial class EventsTests : IAsyncLifetime
{
    /// <summary>Deadline for things that happen at once unless broken.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Deadline for a whole run of hundreds of jobs on a busy 2-core machine.</summary>
    protected static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(180);

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IHost> _agents = [];

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client endpoints.</summary>
    protected abstract string Endpoints { get; }

    /// <summary>Whether the store reports every change (etcd) rather than possibly coalescing quick ones (ZooKeeper).</summary>
    protected bool EveryChange => Backend == "etcd";

    /// <summary>A store root unique to the running test.</summary>
    protected string Root { get; } = "t/" + TestNames.Unique("events");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var agent in Enumerable.Reverse(_agents))
        {
            try
            {
                await agent.StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
            }

            agent.Dispose();
        }

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

    /// <summary>A director on the test's root; with <paramref name="runtime"/> it campaigns and schedules.</summary>
    protected DirectorHost StartDirector(bool runtime = false, IReadOnlyDictionary<string, string>? settings = null) =>
        Own(new DirectorHost(Backend, Endpoints, Root, runtime, settings));

    /// <summary>A director whose event stream has loaded the store (before that, <c>GET /v1/events</c> answers 503).</summary>
    protected async Task<DirectorHost> StartReadyDirectorAsync(bool runtime = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        var director = StartDirector(runtime, settings);
        _ = director.Client; // the host starts with its first client
        await Eventually.UntilAsync(() => director.Service<EventHub>().Revision > 0, Deadline);
        return director;
    }

    /// <summary>Disposes <paramref name="owned"/> after the test.</summary>
    protected T Own<T>(T owned)
        where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    /// <summary>A store connection of the test's own on the root.</summary>
    protected async Task<ICoordinationStore> ConnectStoreAsync()
    {
        var options = new StoreOptions { Backend = Backend, Endpoints = Endpoints, Root = Root, SessionTimeout = TimeSpan.FromSeconds(4) };
        return Own(await options.ConnectAsync());
    }

    /// <summary>Starts an in-process agent with the built-in handlers (<c>echo</c>, <c>sleep</c>); returns its worker id.</summary>
    protected async Task<string> StartAgentAsync(int slots = 32, IDictionary<string, string?>? settings = null)
    {
        var workerId = "w-" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Backend"] = Backend,
            ["Store:Endpoints"] = Endpoints,
            ["Store:Root"] = Root,
            ["Store:SessionTimeout"] = "00:00:04",
            ["Agent:Id"] = workerId,
            ["Agent:Slots"] = slots.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Agent:HeartbeatInterval"] = "00:00:01",
            ["Agent:DrainTimeout"] = "00:00:30",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddControlPlaneAgent(builder.Configuration);
        var host = builder.Build();
        _agents.Add(host);
        await host.StartAsync();
        var store = await ConnectStoreAsync();
        await Eventually.UntilAsync(async () => await store.GetAsync(StoreLayout.Worker(workerId)) is not null, Deadline);
        return workerId;
    }

    /// <summary>Submits <paramref name="count"/> echo jobs through <paramref name="client"/>, 16 at a time; returns their ids.</summary>
    protected static async Task<HashSet<string>> SubmitEchoJobsAsync(HttpClient client, int count, string? group = null)
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            ids.Add((await SubmitAsync(client, new { name = $"e{i}", executor = "echo", group }, ct)).Id);
        });
        return [.. ids];
    }

    /// <summary>Submits one job that must be accepted.</summary>
    protected static async Task<JobView> SubmitAsync(HttpClient client, object spec, CancellationToken cancellationToken = default)
    {
        using var response = await client.PostAsJsonAsync("/v1/jobs", spec, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        return ContractJson.Deserialize<JobView>(body);
    }

    /// <summary>Reads events into <paramref name="seen"/> until <paramref name="done"/> holds for what was seen, the stream
    /// ends (false) or <paramref name="timeout"/> passes (the test fails, saying what was seen).</summary>
    protected static async Task<bool> ReadUntilAsync(SseClient stream, List<SseEvent> seen, Func<SseEvent, bool> done, TimeSpan timeout, string what)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var next = await stream.NextAsync(limit.Token);
                if (next is null)
                {
                    return false;
                }

                seen.Add(next);
                if (done(next))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException(
                $"Waiting for {what}: no end within {timeout}; {seen.Count} events seen, the last: {string.Join(" | ", seen.TakeLast(3).Select(e => e.Data.GetRawText()))}");
        }
    }

    /// <summary>Asserts the stream's order: ids strictly increasing, each the revision of its event, revisions never going back.</summary>
    protected static void AssertRevisionOrder(IReadOnlyList<SseEvent> events)
    {
        long lastId = 0, lastRevision = 0;
        foreach (var e in events.Where(e => e.Type != "cutoff"))
        {
            Assert.True(e.Revision >= lastRevision, $"revision {e.Revision} after {lastRevision}: {e.Data.GetRawText()}");
            lastRevision = e.Revision;
            if (e.Id is { } id)
            {
                Assert.True(id > lastId, $"id {id} after {lastId}");
                Assert.Equal(e.Revision, id);
                lastId = id;
            }
        }
    }

    /// <summary>Every job's states, in the order the stream showed them (repeats of one state folded).</summary>
    protected static Dictionary<string, List<string>> StatesByJob(IEnumerable<SseEvent> events)
    {
        var states = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.Type == "job" && e.JobState is not null))
        {
            var list = states.TryGetValue(e.Key!, out var l) ? l : states[e.Key!] = [];
            if (list.Count == 0 || list[^1] != e.JobState)
            {
                list.Add(e.JobState!);
            }
        }

        return states;
    }

    /// <summary>Asserts every job in <paramref name="jobs"/> was seen Succeeded, moving only forward; with
    /// <paramref name="everyState"/> (etcd), seen in every state of its life.</summary>
    protected static void AssertLifecycles(IEnumerable<SseEvent> events, IReadOnlySet<string> jobs, bool everyState)
    {
        string[] life = ["Pending", "Assigned", "Running", "Succeeded"];
        var states = StatesByJob(events);
        foreach (var job in jobs)
        {
            Assert.True(states.TryGetValue(job, out var seen), $"no event of job {job}");
            string Story() => string.Join(" | ", events.Where(e => e.Key == job).Select(e => $"{e.Revision}:{e.JobState}/a{(e.Data.TryGetProperty("job", out var j) ? j.GetProperty("attempt").GetInt32() : 0)}/v{(e.Data.TryGetProperty("version", out var v) ? v.GetInt64() : 0)}"));
            if (everyState)
            {
                Assert.True(life.SequenceEqual(seen), $"job {job}: {string.Join(" → ", seen)}: {Story()}");
                continue;
            }

            Assert.Equal("Succeeded", seen[^1]);
            var positions = seen.Select(s => Array.IndexOf(life, s)).ToList();
            Assert.True(positions.All(p => p >= 0) && positions.Zip(positions.Skip(1)).All(p => p.First < p.Second), $"job {job}: {string.Join(" → ", seen)}: {Story()}");
        }
    }

    /// <summary>A predicate over events that turns true once every job in <paramref name="jobs"/> has been seen Succeeded.</summary>
    protected static Func<SseEvent, bool> AllSucceeded(IReadOnlySet<string> jobs)
    {
        var left = new HashSet<string>(jobs, StringComparer.Ordinal);
        return e =>
        {
            if (e.Type == "job" && e.JobState == "Succeeded")
            {
                left.Remove(e.Key!);
            }

            return left.Count == 0;
        };
    }
}
