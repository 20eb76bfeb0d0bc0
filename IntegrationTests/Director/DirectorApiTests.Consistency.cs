using System.Net;
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
}
