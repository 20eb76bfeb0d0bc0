using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ControlPlane.IntegrationTests.Operations;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Agents;

/// <summary>The agent's HTTP port (<c>Agent:Http:*</c>): <c>/metrics</c> and <c>/healthz</c> against a real store.</summary>
public abstract partial class AgentTestBase
{
    [Fact]
    public async Task The_http_port_serves_metrics_and_a_healthz_that_is_503_while_the_agent_is_cut_off()
    {
        var proxy = Own(TcpProxy.Start(Endpoints.Split(',')[0]));
        var port = ControlPlaneApps.FreePort();
        var (_, _, workerId) = await StartAgentAsync(new Dictionary<string, string?> { ["Agent:Http:Port"] = $"{port}" }, proxy.Address);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Registered (the store has the worker): healthy once the agent's own flag follows.
        await Eventually.UntilAsync(async () => (await HealthAsync(http)).Status == HttpStatusCode.OK, Deadline);
        var (_, body) = await HealthAsync(http);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal(workerId, body.GetProperty("workerId").GetString());
        Assert.True(body.GetProperty("registered").GetBoolean());
        Assert.Equal("Connected", body.GetProperty("session").GetString());

        using var answer = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("text/plain", answer.Content.Headers.ContentType?.MediaType);
        var metrics = MetricsScrape.Parse(await answer.Content.ReadAsStringAsync());
        // Exported before the first event. Not compared with 0: the agent's meter is per process, and this agent runs
        // in the test process beside other tests' agents, which fence and reject attempts of their own.
        Assert.True(metrics.Has("controlplane_agent_attempts_fenced_total"), "the fenced counter is exported before any fencing");
        Assert.True(metrics.Has("controlplane_agent_attempts_rejected_total"), "the rejected counter is exported before any rejection");
        Assert.True(metrics.Has(DocumentedSeries.Read()[DocumentedSeries.StoreClient(Backend)][0]), "the store client's requests are exported too");
        // Other paths are 404, and the kept-alive connection still answers the next request right.
        foreach (var path in (string[])["/", "/healthz/more"])
        {
            using var other = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        using (var post = await http.PostAsync(new Uri("/healthz", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }

        // Cut off from the store: unhealthy (suspended, then fenced or expired) until it is registered again.
        proxy.Pause();
        await Eventually.UntilAsync(async () => (await HealthAsync(http)).Status == HttpStatusCode.ServiceUnavailable, Deadline);
        Assert.Equal("unavailable", (await HealthAsync(http)).Body.GetProperty("status").GetString());
        proxy.Resume();
        await Eventually.UntilAsync(async () => (await HealthAsync(http)).Status == HttpStatusCode.OK, Deadline);
    }

    [Fact]
    public async Task A_port_in_use_stops_the_agent_at_start_naming_the_setting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => StartAgentAsync(new Dictionary<string, string?> { ["Agent:Http:Port"] = $"{port}" }));

        Assert.Contains("Agent:Http:Port", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{port}", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }
}
