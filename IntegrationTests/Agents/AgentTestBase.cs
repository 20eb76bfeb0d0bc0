using System.Collections.Concurrent;
using ControlPlane.Agents;
using ControlPlane.Agents.Hosting;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>
/// The agent against a real store, one subclass per backend. There is no director here: the test plays the leader
/// by writing assignment records straight into the store with the Contracts types, and reads the reports back.
/// Each test has its own store root.
/// </summary>
public abstract partial class AgentTestBase(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Deadline for things that happen at once unless broken.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Session timeout of every store in these tests: short so expiry is quick; inside ZooKeeper's test bounds
    /// (tickTime 200 ms allows at most 4 s) and above etcd's 2 s minimum. The fencing margin is a third of it.</summary>
    protected static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(3);

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IHost> _hosts = [];

    /// <summary>The longest session timeout the backend's shared test server grants: what tests use that must not
    /// lose sessions to a busy machine (ZooKeeper's test server allows at most 4 s; etcd takes any TTL).</summary>
    protected virtual TimeSpan LongSessionTimeout => TimeSpan.FromSeconds(4);

    /// <summary>The test's key root.</summary>
    protected string Root { get; } = "t/" + TestNames.Unique("agent");

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client address.</summary>
    protected abstract string Endpoints { get; }

    /// <summary>Test output (the memory figure of the scale test).</summary>
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>The director's store client.</summary>
    protected ICoordinationStore Director { get; private set; } = null!;

    public async Task InitializeAsync() => Director = await ConnectAsync();

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            try
            {
                await host.StopAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException)
            {
                // A test that stopped it already, or cut it off.
            }

            host.Dispose();
        }

        foreach (var owned in Enumerable.Reverse(_owned))
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception e) when (e is StoreException or ObjectDisposedException or OperationCanceledException)
            {
                // Cut off by the test.
            }
        }

        await Director.DisposeAsync();
    }

    /// <summary>A store client on the test's root (directly, or through <paramref name="endpoints"/>).</summary>
    protected async Task<ICoordinationStore> ConnectAsync(string? endpoints = null, TimeSpan? sessionTimeout = null) =>
        await StoreSettings(endpoints, sessionTimeout).ConnectAsync();

    /// <summary>Store options of the test's root.</summary>
    protected StoreOptions StoreSettings(string? endpoints = null, TimeSpan? sessionTimeout = null) => new()
    {
        Backend = Backend,
        Endpoints = endpoints ?? Endpoints,
        Root = Root,
        SessionTimeout = sessionTimeout ?? SessionTimeout,
    };

    /// <summary>Starts an agent host as a real process would configure it; returns it with its event recorder.</summary>
    protected async Task<(IHost Host, Recorder Events, string WorkerId)> StartAgentAsync(
        IDictionary<string, string?>? settings = null, string? endpoints = null)
    {
        var workerId = "w-" + Guid.NewGuid().ToString("N")[..8];
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Backend"] = Backend,
            ["Store:Endpoints"] = endpoints ?? Endpoints,
            ["Store:Root"] = Root,
            ["Store:SessionTimeout"] = SessionTimeout.ToString(),
            ["Agent:Id"] = workerId,
            ["Agent:Slots"] = "2",
            ["Agent:HeartbeatInterval"] = "00:00:01",
            ["Agent:DrainTimeout"] = "00:00:05",
            ["Executors:Shell:Enabled"] = "true",
            ["Executors:Shell:GracePeriod"] = "00:00:01",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        var events = new Recorder();
        builder.Services.AddSingleton<IExecutionObserver>(events);
        builder.Services.AddControlPlaneAgent(builder.Configuration);
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        await Eventually.UntilAsync(async () => await Director.GetAsync(StoreLayout.Worker(workerId)) is not null, Deadline);
        return (host, events, workerId);
    }

    /// <summary>The agent runtime inside <paramref name="host"/>.</summary>
    internal static ControlPlane.Agents.Runtime.AgentRuntime RuntimeOf(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<AgentHostedService>().Single().Runtime!;

    /// <summary>Writes an assignment as the leader would, to the worker's current registration.</summary>
    protected async Task<string> AssignAsync(string workerId, AssignmentRecord record)
    {
        var worker = await Director.GetAsync(StoreLayout.Worker(workerId)) ?? throw new InvalidOperationException($"{workerId} is not registered.");
        var jobId = JobIds.New();
        var key = StoreLayout.Assignment(workerId, jobId, 1);
        var full = record with { JobId = jobId, Attempt = 1, Epoch = 1, WorkerSession = worker.Owner, AssignedAt = DateTimeOffset.UtcNow };
        Assert.True((await Director.CommitAsync(new Transaction().Create(key, ContractJson.Serialize(full)))).Succeeded);
        return key;
    }

    /// <summary>The assignment record, or null when gone.</summary>
    protected async Task<AssignmentRecord?> ReadAsync(string key) =>
        await Director.GetAsync(key) is { } item ? ContractJson.Deserialize<AssignmentRecord>(item.Value.Span) : null;

    /// <summary>Waits for the assignment to reach <paramref name="state"/>.</summary>
    protected async Task<AssignmentRecord> WaitForStateAsync(string key, AttemptState state, TimeSpan? timeout = null)
    {
        AssignmentRecord? seen = null;
        await Eventually.UntilAsync(async () => (seen = await ReadAsync(key))?.State == state, timeout ?? Deadline, () => $"{seen?.State}");
        return seen!;
    }

    /// <summary>The job process of a shell attempt, once its start event is out (the Running write comes first).</summary>
    protected static async Task<int> StartedProcessAsync(Recorder events, string jobId)
    {
        await Eventually.UntilAsync(() => events.Find(ExecutionEventKind.Start, jobId) is not null, Deadline);
        return events.Find(ExecutionEventKind.Start, jobId)!.JobProcessId!.Value;
    }

    /// <summary>Disposed with the test.</summary>
    protected T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>Collects execution events.</summary>
    protected sealed class Recorder : IExecutionObserver
    {
        private readonly ConcurrentQueue<ExecutionEvent> _events = new();

        public IReadOnlyList<ExecutionEvent> All => [.. _events];

        public void OnExecutionEvent(ExecutionEvent executionEvent) => _events.Enqueue(executionEvent);

        public ExecutionEvent? Find(ExecutionEventKind kind, string jobId) => _events.FirstOrDefault(e => e.Kind == kind && e.JobId == jobId);
    }
}
