using System.Net;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.Operations;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// <c>/metrics</c> as Prometheus scrapes it, on real processes: the leader director and an agent with its HTTP port
/// serve every series docs/operations.md documents for their components and their store's client. One subclass per
/// backend.
/// </summary>
public abstract class MetricsTests(ClusterFixture cluster)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_leader_and_an_agent_serve_every_documented_series_of_their_components()
    {
        // One job on agent-a (the one with the port), so the per-attempt series have a sample.
        var job = await cluster.Api.SubmitAsync(new JobSpec
        {
            Executor = "echo",
            Args = JsonDocument.Parse("""{"greeting":"metrics"}""").RootElement,
            Constraints = new Dictionary<string, string> { ["zone"] = "a" },
        });
        Assert.Equal(JobState.Succeeded, (await cluster.Api.WaitForTerminalAsync(job.Id, Deadline)).State);
        var documented = DocumentedSeries.Read();
        var store = documented[DocumentedSeries.StoreClient(cluster.Target.Backend)];

        // The leader: the scheduler's histograms have samples only where passes run.
        string[] missing = [];
        await Eventually.UntilAsync(
            async () =>
            {
                var leaderId = (await cluster.Api.LeaderAsync())?.DirectorId;
                if (cluster.Directors.FirstOrDefault(d => d.Process.Name == leaderId) is not { } leader)
                {
                    return false;
                }

                var metrics = MetricsScrape.Parse(await leader.Client.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
                missing = [.. documented[DocumentedSeries.Director].Concat(store).Where(name => !metrics.Has(name))];
                return missing.Length == 0;
            },
            Deadline,
            () => "missing on the leader's /metrics: " + string.Join(", ", missing));

        using var agent = new HttpClient { BaseAddress = cluster.AgentHttp };
        MetricsScrape? scraped = null;
        await Eventually.UntilAsync(
            async () =>
            {
                scraped = MetricsScrape.Parse(await agent.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
                missing = [.. documented[DocumentedSeries.Agent].Concat(store).Where(name => !scraped.Has(name))];
                return missing.Length == 0;
            },
            Deadline,
            () => "missing on agent-a's /metrics: " + string.Join(", ", missing));
        Assert.True(scraped!.Value("controlplane_agent_attempts_finished_total", ("state", "Succeeded")) >= 1);
        Assert.Equal(0, scraped.Value("controlplane_agent_attempts_fenced_total"));

        using var health = await agent.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("agent-a", body.RootElement.GetProperty("workerId").GetString());
    }
}

/// <summary>On ZooKeeper.</summary>
[Collection(ZooKeeperClusterCollection.Name)]
public sealed class ZooKeeperMetricsTests(ZooKeeperClusterFixture cluster) : MetricsTests(cluster);

/// <summary>On etcd.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdMetricsTests(EtcdClusterFixture cluster) : MetricsTests(cluster);
