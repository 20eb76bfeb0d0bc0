using System.Net.Http.Json;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.IntegrationTests.Director;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.IntegrationTests.Scheduling;

/// <summary>
/// Gray failure with real agents (docs/operations.md, "Failure detection"): an agent that stays registered and beats
/// but starts none of its assignments (<c>Agent:FaultInjection:StartNothing</c>) is marked suspect within three report
/// intervals, its job runs on another agent without using an attempt, <c>/v1/workers</c> says why, and once it starts
/// work again its probe clears the mark. A director hosted in the test leads; one subclass per backend.
/// </summary>
public abstract class GrayFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IHost> _agents = [];

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client endpoints.</summary>
    protected abstract string Endpoints { get; }

    private string Root { get; } = "t/" + TestNames.Unique("gray");

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

    [Fact]
    public async Task An_agent_that_stops_starting_its_assignments_is_suspect_within_3_report_intervals_and_its_assignments_run_elsewhere()
    {
        var director = new DirectorHost(Backend, Endpoints, Root, runtime: true, new Dictionary<string, string>
        {
            ["Scheduler:SuspectProbeInterval"] = "00:00:02",
        });
        _owned.Add(director);
        var client = director.Client;
        var store = await ConnectStoreAsync();

        // The only worker at first: accepts (its session lives, it beats every second) but starts nothing.
        var (gray, grayHost) = await StartAgentAsync(startNothing: true);
        var first = await SubmitAsync(client, "g1");
        await Eventually.UntilAsync(async () => (await JobAsync(client, first)).State == JobState.Assigned, Deadline);
        var assigned = await JobAsync(client, first);
        Assert.Equal(gray, assigned.WorkerId);

        SuspectRecord? mark = null;
        await Eventually.UntilAsync(
            async () => (mark = await store.GetAsync(StoreLayout.Suspect(gray)) is { } item ? ContractJson.Deserialize<SuspectRecord>(item.Value.Span) : null) is not null,
            Deadline, () => "no suspect record");
        Assert.Equal(SuspectKinds.Unstarted, mark!.Kind);
        // Both times are the leader's clock: the placement's and the mark's.
        var after = mark.Since - assigned.AssignedAt!.Value;
        Assert.True(after <= TimeSpan.FromSeconds(3), $"marked {after.TotalSeconds:0.00} s after the assignment (3 report intervals: 3 s)");

        // /v1/workers says so, with the reason; a healthy agent then runs the job, at no attempt of its own.
        var view = await WorkerAsync(client, gray);
        Assert.Equal(("suspect", SuspectKinds.Unstarted), (view.State, view.SuspectKind));
        Assert.Contains("unstarted", view.SuspectReason, StringComparison.Ordinal);
        var (healthy, healthyHost) = await StartAgentAsync(startNothing: false);
        var done = await WaitForAsync(client, first, j => j.State.IsTerminal());
        Assert.Equal((JobState.Succeeded, healthy), (done.State, done.WorkerId));
        Assert.True(done.Interruptions >= 1 && done.Attempt - done.Interruptions == 1, $"attempt {done.Attempt}, interruptions {done.Interruptions}");

        // Work submitted meanwhile goes to the healthy agent only.
        var second = await SubmitAsync(client, "g2");
        Assert.Equal(healthy, (await WaitForAsync(client, second, j => j.State.IsTerminal())).WorkerId);

        // The agent works again; with the healthy one gone, the next job is its probe, and starting it clears the mark.
        await healthyHost.StopAsync(TimeSpan.FromSeconds(20));
        grayHost.Services.GetRequiredService<IOptions<AgentOptions>>().Value.FaultInjection.StartNothing = false;
        var third = await SubmitAsync(client, "g3");
        var probe = await WaitForAsync(client, third, j => j.State.IsTerminal());
        Assert.Equal((JobState.Succeeded, gray), (probe.State, probe.WorkerId));
        await Eventually.UntilAsync(async () => await store.GetAsync(StoreLayout.Suspect(gray)) is null, Deadline, () => "still suspect");
        Assert.Equal("ready", (await WorkerAsync(client, gray)).State);
    }

    [Fact]
    public async Task An_agent_whose_beats_stop_fences_itself_and_its_running_job_runs_elsewhere_after_its_beat_lease_and_a_half()
    {
        var director = new DirectorHost(Backend, Endpoints, Root, runtime: true, new Dictionary<string, string>());
        _owned.Add(director);
        var client = director.Client;
        var logs = Directory.CreateTempSubdirectory("beatfence-").FullName;
        var firstLog = Path.Combine(logs, "stuck.jsonl");
        var secondLog = Path.Combine(logs, "healthy.jsonl");

        // A job far longer than the test on the only agent, whose beat lease is 3 s (1 s beats).
        var (stuck, stuckHost) = await StartAgentAsync(startNothing: false, firstLog, beatFence: "00:00:03");
        var id = await SubmitAsync(client, "long", "sleep", new { seconds = 600 });
        var running = await WaitForAsync(client, id, j => j.State == JobState.Running);
        Assert.Equal(stuck, running.WorkerId);

        // Its beat loop stops (the session, the watch and the job carry on); another agent is there to take the job.
        var (healthy, _) = await StartAgentAsync(startNothing: false, secondLog);
        var stopped = DateTimeOffset.UtcNow;
        stuckHost.Services.GetRequiredService<IOptions<AgentOptions>>().Value.FaultInjection.StopBeats = true;

        var moved = await WaitForAsync(client, id, j => j.State == JobState.Running && j.WorkerId == healthy);
        Assert.Equal((2, 1), (moved.Attempt, moved.Interruptions));
        // The agent reports Running and appends to its execution log independently: wait for the log to have the start.
        var events = new List<TestSupport.ControlPlane.ExecutionEvent>();
        await Eventually.UntilAsync(
            () => (events = [.. ExecutionLog.Read([firstLog, secondLog]).Where(e => e.JobId == id)]).Any(e => e.Event == "start" && e.Attempt == 2),
            TimeSpan.FromSeconds(30),
            () => string.Join("; ", events));
        Assert.Empty(ExecutionLog.Overlaps(events));
        var killed = Assert.Single(events, e => e.Event == "end" && e.Attempt == 1);
        Assert.Equal(("Lost", stuck), (killed.State, killed.WorkerId));
        Assert.Contains(events, e => e.Event == "fenced" && e.Attempt == 1);
        var rerun = Assert.Single(events, e => e.Event == "start" && e.Attempt == 2);
        Assert.True(killed.Time < rerun.Time, $"attempt 1 ended at {killed.Time:O}, attempt 2 started at {rerun.Time:O}");

        // The leader waits 1.5 × 3 s after the last beat it saw (at most a beat before the stop), then a pass and a start.
        var after = rerun.Time - stopped;
        Assert.True(after < TimeSpan.FromSeconds(15), $"the job ran elsewhere {after.TotalSeconds:0.0} s after the beats stopped");
    }

    private async Task<ICoordinationStore> ConnectStoreAsync()
    {
        var options = new StoreOptions { Backend = Backend, Endpoints = Endpoints, Root = Root, SessionTimeout = TimeSpan.FromSeconds(4) };
        var store = await options.ConnectAsync();
        _owned.Add(store);
        return store;
    }

    /// <summary>An in-process agent beating every second; returns its worker id once registered, and its host.</summary>
    private async Task<(string Id, IHost Host)> StartAgentAsync(bool startNothing, string? executionLog = null, string? beatFence = null)
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
            ["Agent:Slots"] = "4",
            ["Agent:HeartbeatInterval"] = "00:00:01",
            ["Agent:DrainTimeout"] = "00:00:10",
            ["Agent:FaultInjection:StartNothing"] = startNothing ? "true" : "false",
        });
        if (executionLog is not null)
        {
            builder.Configuration["Agent:ExecutionLog"] = executionLog;
        }

        if (beatFence is not null)
        {
            builder.Configuration["Agent:BeatFence"] = beatFence;
        }

        builder.Services.AddControlPlaneAgent(builder.Configuration);
        var host = builder.Build();
        _agents.Add(host);
        await host.StartAsync();
        var store = await ConnectStoreAsync();
        await Eventually.UntilAsync(async () => await store.GetAsync(StoreLayout.Worker(workerId)) is not null, Deadline);
        return (workerId, host);
    }

    private static async Task<string> SubmitAsync(HttpClient client, string name, string executor = "echo", object? args = null)
    {
        using var response = await client.PostAsJsonAsync("/v1/jobs", new { name, executor, args, maxAttempts = 1 });
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        return ContractJson.Deserialize<JobView>(body).Id;
    }

    private static async Task<JobView> JobAsync(HttpClient client, string id) =>
        ContractJson.Deserialize<JobView>(await client.GetByteArrayAsync($"/v1/jobs/{id}"));

    private static async Task<JobView> WaitForAsync(HttpClient client, string id, Func<JobView, bool> condition)
    {
        JobView? last = null;
        await Eventually.UntilAsync(async () => condition(last = await JobAsync(client, id)), Deadline, () => $"{last}");
        return last!;
    }

    private static async Task<WorkerView> WorkerAsync(HttpClient client, string id)
    {
        var page = ContractJson.Deserialize<WorkerPage>(await client.GetByteArrayAsync("/v1/workers"));
        return page.Items.Single(w => w.Id == id);
    }
}

/// <summary>Gray failure on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperGrayFailureTests(ZooKeeperFixture fixture) : GrayFailureTests
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}

/// <summary>Gray failure on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdGrayFailureTests(EtcdFixture fixture) : GrayFailureTests
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;
}
