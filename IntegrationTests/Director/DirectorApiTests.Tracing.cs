using System.Diagnostics;
using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task One_job_is_one_trace_from_the_api_request_through_the_leader_to_the_agent_and_into_its_process()
    {
        // The OpenTelemetry SDK with its in-memory exporter, listening to the sources a deployment would export. It is
        // process-wide (other tests' spans arrive too), so everything below is selected by this job's trace id.
        var exported = new LockedList<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Tracing.DirectorSource, Tracing.AgentSource, "Microsoft.AspNetCore")
            .AddInMemoryExporter(exported)
            .Build();
        var leader = StartDirector(runtime: true);
        using var agent = await StartAgentAsync("w-traced");
        JobView job, done;
        try
        {
            job = await SubmitAsync(new { executor = "shell", command = new[] { "/bin/sh", "-c", "echo \"traceparent=$TRACEPARENT\"" } }, leader.Client);
            Assert.NotNull(job.TraceId);
            done = await WaitForTerminalAsync(leader.Client, job.Id);
        }
        finally
        {
            await agent.StopAsync();
        }

        Assert.Equal(JobState.Succeeded, done.State);
        Activity[] trace = [];
        await Eventually.UntilAsync(
            () => (trace = exported.Where(a => a.TraceId.ToHexString() == job.TraceId).ToArray()).Any(a => a.OperationName == "job.run"),
            Deadline,
            () => $"spans of the job's trace: {string.Join(", ", trace.Select(a => $"{a.Source.Name}/{a.OperationName}"))}");
        var request = Assert.Single(trace, a => a.Source.Name == "Microsoft.AspNetCore");
        var submit = Assert.Single(trace, a => a.OperationName == "job.submit");
        var place = Assert.Single(trace, a => a.OperationName == "job.place");
        var run = Assert.Single(trace, a => a.OperationName == "job.run");
        Assert.Equal(request.SpanId, submit.ParentSpanId);
        Assert.Equal(submit.SpanId, place.ParentSpanId);
        Assert.Equal(place.SpanId, run.ParentSpanId);
        Assert.Equal(job.Id, run.GetTagItem("controlplane.job.id"));
        Assert.Equal("w-traced", place.GetTagItem("controlplane.worker.id"));
        Assert.Equal(ActivityStatusCode.Ok, run.Status);
        // The job's own process was handed the run's context: its spans would be children of the run.
        Assert.Contains($"traceparent=00-{job.TraceId}-{run.SpanId.ToHexString()}-", done.Output, StringComparison.Ordinal);
    }

    /// <summary>An agent hosted in this process (the embeddable library, as a team's own host would run it), on the
    /// test's root; disposing stops it.</summary>
    private async Task<IHost> StartAgentAsync(string workerId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Backend"] = Backend,
            ["Store:Endpoints"] = Endpoints,
            ["Store:Root"] = Root,
            ["Store:SessionTimeout"] = "00:00:04",
            ["Agent:Id"] = workerId,
            ["Executors:Shell:Enabled"] = "true",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddControlPlaneAgent(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task<JobView> WaitForTerminalAsync(HttpClient client, string id)
    {
        JobView? last = null;
        await Eventually.UntilAsync(
            async () => (last = await ReadAsync<JobView>(await client.GetAsync($"/v1/jobs/{id}"))).State.IsTerminal(),
            TimeSpan.FromSeconds(30),
            () => $"{last?.State} {last?.Error}");
        return last!;
    }

    /// <summary>A list the exporter adds to from its threads while the test reads it.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item)
        {
            lock (_items)
            {
                return _items.Contains(item);
            }
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            lock (_items)
            {
                _items.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        /// <summary>Enumerates a snapshot.</summary>
        public IEnumerator<T> GetEnumerator()
        {
            lock (_items)
            {
                return _items.ToList().GetEnumerator();
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
