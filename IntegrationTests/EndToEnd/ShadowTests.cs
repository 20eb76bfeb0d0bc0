using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.Operations;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Shadow directors (docs/cells.md) with real processes on a one-member store: one director leads the default cell with
/// the default placement (spread), two agents of 4 slots run the jobs, and two shadow directors follow the cell without
/// writing: one of the same build and options, one with <c>Scheduler:Placement=pack</c>. Jobs are submitted one at a
/// time, each waited for until it is placed and both shadows have compared it, so every planner decides from the same
/// state. The same-build shadow agrees on every placement; the pack shadow names exactly the ones spread and pack choose
/// differently. One subclass per backend.
/// </summary>
public abstract class ShadowTests(ITestOutputHelper output) : StoreSystemTests(output, "e2e-shadow")
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_same_build_shadow_reports_no_difference_and_a_pack_shadow_names_the_placements_spread_made_otherwise()
    {
        var target = Backend.Target(Servers, "e2e-shadow");
        await Apps.StartAgentAsync(target, "agent-a", slots: 4);
        await Apps.StartAgentAsync(target, "agent-b", slots: 4);
        var leader = await Apps.StartDirectorAsync(target, "leader");
        var api = leader.Client;
        await Eventually.UntilAsync(async () => (await api.WorkersAsync()).Count(w => w.State == "ready") == 2, Deadline, () => "two ready workers");
        await Eventually.UntilAsync(async () => await api.LeaderAsync() is not null, Deadline, () => "a leader");

        // No shadow yet: an empty list. A cell that does not exist is a 404, a name that cannot be one a 400 naming the field.
        Assert.Empty(await ShadowsAsync(api));
        using (var missing = await api.Http.GetAsync(new Uri("/v1/cells/nowhere/shadow", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }

        using (var bad = await api.Http.GetAsync(new Uri("/v1/cells/No_Such/shadow", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("\"cell\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var same = await Apps.StartDirectorAsync(target, "shadow-same", ["--Director:Mode=shadow"]);
        var pack = await Apps.StartDirectorAsync(target, "shadow-pack", ["--Director:Mode=shadow", "--Director:ShadowCell=default", "--Scheduler:Placement=pack"]);
        await Eventually.UntilAsync(() => ShadowsAsync(api), s => s.Count == 2 && s.All(r => r.Following), Deadline);

        // One job at a time: spread puts them on a, b, a, b; pack on a (a tie: lowest id), then the most loaded with room.
        var jobs = new List<JobView>();
        for (var i = 1; i <= 4; i++)
        {
            var job = await api.SubmitAsync(new JobSpec { Executor = "shell", Command = ["/bin/sh", "-c", "sleep 120"] });
            var placed = await Eventually.UntilAsync(() => api.GetJobAsync(job.Id), j => j?.WorkerId is not null, Deadline);
            jobs.Add(placed!);
            await Eventually.UntilAsync(() => ShadowsAsync(api), s => s.Count == 2 && s.All(r => r.Agree + r.Differ + r.Unplanned == i), Deadline);
        }

        Output.WriteLine("leader placed: " + string.Join(", ", jobs.Select(j => $"{j.Id}={j.WorkerId}")));
        Assert.Equal(["agent-a", "agent-b", "agent-a", "agent-b"], jobs.Select(j => j.WorkerId));
        var reports = (await ShadowsAsync(api)).ToDictionary(r => r.DirectorId);
        foreach (var report in reports.Values)
        {
            Output.WriteLine(System.Text.Encoding.UTF8.GetString(ContractJson.Serialize(report)));
        }

        var agreed = reports["shadow-same"];
        Assert.Equal(("spread", Cells.Default, 4L, 0L, 0L), (agreed.Placement, agreed.Cell, agreed.Agree, agreed.Differ, agreed.Unplanned));
        Assert.Empty(agreed.Differences);

        var packed = reports["shadow-pack"];
        Assert.Equal(("pack", 2L, 2L, 0L), (packed.Placement, packed.Agree, packed.Differ, packed.Unplanned));
        Assert.Equal(
            [(jobs[1].Id, 1, "agent-b", "agent-a"), (jobs[3].Id, 1, "agent-b", "agent-a")],
            packed.Differences.Select(d => (d.JobId, d.Attempt, d.LeaderWorker, d.ShadowWorker)));

        // The metric, on the shadow itself, with every series docs/operations.md documents for shadows.
        var metrics = MetricsScrape.Parse(await pack.Client.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        Assert.All(DocumentedSeries.Read()["Shadow director"], name => Assert.True(metrics.Has(name), $"{name} is not on the shadow's /metrics"));
        Assert.Equal(2, metrics.Value("controlplane_shadow_decisions_total", ("cell", "default"), ("outcome", "differ")));
        Assert.Equal(2, metrics.Value("controlplane_shadow_decisions_total", ("cell", "default"), ("outcome", "agree")));

        // The shadows wrote nothing: every job and assignment carries the leader's epoch, and cpctl shows the report.
        var epoch = (await api.LeaderAsync())!.Epoch;
        Assert.All(jobs, j => Assert.Equal(epoch, j.Epoch));
        var cli = await ControlPlaneApps.RunCliAsync(["shadow", "default"], new Dictionary<string, string>
        {
            ["CONTROLPLANE_URL"] = same.Url.ToString(),
            ["CONTROLPLANE_TOKEN"] = same.Token,
        });
        Output.WriteLine(cli.Out);
        Assert.True(cli.ExitCode == 0, $"cpctl shadow exited {cli.ExitCode}: {cli.Error}");
        Assert.Contains("shadow-pack", cli.Out, StringComparison.Ordinal);
        Assert.Contains(jobs[3].Id, cli.Out, StringComparison.Ordinal);
    }

    private static async Task<Seen> ShadowsAsync(DirectorClient client)
    {
        using var response = await client.Http.GetAsync(new Uri("/v1/cells/default/shadow", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return new(ContractJson.Deserialize<List<ShadowReport>>(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>The reports a poll read, shown when a wait times out.</summary>
    private sealed class Seen(IEnumerable<ShadowReport> items) : List<ShadowReport>(items)
    {
        public override string ToString() => "[" + string.Join("; ", this.Select(r =>
            $"{r.DirectorId} following={r.Following} agree={r.Agree} differ={r.Differ} unplanned={r.Unplanned} late={r.Late} outstanding={r.Outstanding}")) + "]";
    }
}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperShadowTests(ITestOutputHelper output) : ShadowTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdShadowTests(ITestOutputHelper output) : ShadowTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
