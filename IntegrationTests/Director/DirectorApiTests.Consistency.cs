using System.Net;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task A_job_submitted_through_one_director_is_read_with_min_revision_through_another()
    {
        var other = StartDirector();
        using var otherClient = other.CreateClient(DirectorHost.Token);
        for (var i = 0; i < 50; i++)
        {
            using var submitted = await PostJobAsync(Client, ShellJob($"ryw-{i}"));
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
            var job = await ReadAsync<JobView>(submitted);
            var revision = RevisionOf(submitted);

            // Half the reads ask by query parameter, half by header: both must never miss the write.
            using var request = new HttpRequestMessage(HttpMethod.Get, i % 2 == 0 ? $"/v1/jobs/{job.Id}?minRevision={revision}" : $"/v1/jobs/{job.Id}");
            if (i % 2 == 1)
            {
                request.Headers.Add("X-Min-Revision", revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            using var read = await otherClient.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            var view = await ReadAsync<JobView>(read);
            Assert.Equal(job.Id, view.Id);
            Assert.True(view.Revision >= revision, $"read at {view.Revision}, written at {revision}");
        }
    }

    [Fact]
    public async Task Directors_given_the_root_with_and_without_a_leading_slash_share_the_same_jobs()
    {
        // The test's director has Store:Root=t/director-...; this one is told /t/director-..., as zkCli and etcdctl write it.
        var slashed = StartDirector(settings: new Dictionary<string, string> { ["Store:Root"] = "/" + Root });
        using var slashedClient = slashed.CreateClient(DirectorHost.Token);

        using var viaPlain = await PostJobAsync(Client, ShellJob("plain"));
        using var viaSlashed = await PostJobAsync(slashedClient, ShellJob("slashed"));
        Assert.Equal(HttpStatusCode.Created, viaPlain.StatusCode);
        Assert.Equal(HttpStatusCode.Created, viaSlashed.StatusCode);
        var plainJob = await ReadAsync<JobView>(viaPlain);
        var slashedJob = await ReadAsync<JobView>(viaSlashed);

        // Each reads the other's job, and the listing of either holds both.
        using (var read = await slashedClient.GetAsync($"/v1/jobs/{plainJob.Id}?minRevision={RevisionOf(viaPlain)}"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        using (var read = await Client.GetAsync($"/v1/jobs/{slashedJob.Id}?minRevision={RevisionOf(viaSlashed)}"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        var revision = Math.Max(RevisionOf(viaPlain), RevisionOf(viaSlashed));
        using (var list = await slashedClient.GetAsync($"/v1/jobs?minRevision={revision}"))
        {
            Assert.Equal([plainJob.Id, slashedJob.Id], (await ReadAsync<JobPage>(list)).Items.Select(j => j.Id).Order(StringComparer.Ordinal));
        }

        // The same keys in the store, not a second tree under "//t/...": the test's own connection (plain root) sees it.
        var store = await ConnectStoreAsync();
        await store.SyncAsync(revision);
        Assert.NotNull(await store.GetAsync(Contracts.StoreLayout.Job(slashedJob.Id)));
        using var cluster = await slashedClient.GetAsync("/v1/cluster");
        Assert.Equal(Root, (await ReadAsync<ClusterView>(cluster)).Store.Root);
    }
}
