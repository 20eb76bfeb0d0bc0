using System.Net;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>What the dashboard needs from the director: its files under <c>/ui</c> (public), the caller's role
/// (<c>GET /v1/whoami</c>) and the leader's job counts (<c>GET /v1/jobs/counts</c>).</summary>
public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Whoami_names_the_role_of_the_token_and_needs_one()
    {
        using (var full = await Client.GetAsync("/v1/whoami"))
        {
            Assert.Equal(new WhoAmIView(WhoAmIView.Full, AuthEnabled: true), await ReadAsync<WhoAmIView>(full));
        }

        using (var readOnly = Director.CreateClient(DirectorHost.ReadOnlyToken))
        {
            Assert.Equal(new WhoAmIView(WhoAmIView.ReadOnly, AuthEnabled: true), await ReadAsync<WhoAmIView>(await readOnly.GetAsync("/v1/whoami")));
        }

        using var anonymous = Director.CreateClient(token: null);
        using var refused = await anonymous.GetAsync("/v1/whoami");
        await AssertProblemAsync(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_dashboard_is_served_under_ui_without_a_token_with_a_strict_content_security_policy()
    {
        using var anonymous = Director.CreateClient(token: null);
        using (var bare = await anonymous.GetAsync("/ui"))
        {
            Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
            Assert.Equal("/ui/", bare.Headers.Location?.OriginalString);
        }

        using (var index = await anonymous.GetAsync("/ui/"))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
            Assert.Contains("app.js", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Contains("default-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("no-cache", index.Headers.CacheControl?.ToString());
        }

        foreach (var file in (string[])["app.js", "api.js", "sse.js", "live.js", "dom.js", "overview.js", "jobs.js", "job.js", "workers.js", "schedules.js", "style.css"])
        {
            using var response = await anonymous.GetAsync($"/ui/{file}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/ui/{file}: {response.StatusCode}");
            Assert.Equal(file.EndsWith(".css", StringComparison.Ordinal) ? "text/css" : "text/javascript", response.Content.Headers.ContentType?.MediaType);
        }

        using var missing = await anonymous.GetAsync("/ui/nothing-here.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Job_counts_are_unavailable_without_a_leader_and_follow_the_leaders_counts()
    {
        // This director does not campaign: nobody has published counts yet.
        using (var none = await Client.GetAsync("/v1/jobs/counts"))
        {
            await AssertProblemAsync(none, HttpStatusCode.ServiceUnavailable);
        }

        var leading = StartDirector(runtime: true);
        using var client = leading.CreateClient(DirectorHost.Token);
        await SubmitAsync();
        await SubmitAsync();

        // No agent: both stay Pending. Any director serves the leader's counts (this one does not lead).
        JobCountsView? seen = null;
        await Eventually.UntilAsync(async () =>
        {
            using var response = await Client.GetAsync("/v1/jobs/counts");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            seen = await ReadAsync<JobCountsView>(response);
            return seen.Counts.GetValueOrDefault(nameof(JobState.Pending)) == 2;
        }, Deadline, () => seen is null ? "no counts" : string.Join(", ", seen.Counts));

        Assert.Equal(Enum.GetNames<JobState>().Order(), seen!.Counts.Keys.Order());
        Assert.Equal(0, seen.Counts[nameof(JobState.Succeeded)]);
        Assert.True(seen.Epoch > 0);
    }
}
