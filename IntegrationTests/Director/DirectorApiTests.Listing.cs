using System.Net;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Listing_pages_through_every_bucket_without_duplicates_and_filters_by_state_and_group()
    {
        var submitted = new List<JobView>();
        for (var i = 0; i < 30; i++)
        {
            submitted.Add(await SubmitAsync(ShellJob($"job-{i}", group: i % 3 == 0 ? "g1" : null)));
        }

        var cancelled = submitted.Take(4).Select(j => j.Id).ToHashSet();
        foreach (var id in cancelled)
        {
            using var response = await Client.DeleteAsync($"/v1/jobs/{id}");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var pages = new List<JobPage>();
        var all = await ListAllAsync("limit=7", pages);
        Assert.Equal(all.Count, all.Select(j => j.Id).Distinct().Count());
        Assert.Equal(submitted.Select(j => j.Id).Order(), all.Select(j => j.Id).Order());
        Assert.All(pages, page => Assert.True(page.Items.Count <= 7));
        Assert.True(pages.Count >= 5, $"30 jobs in pages of 7 took {pages.Count} pages");
        // Within a bucket ids come in order, and buckets in order: the listing is sorted by (bucket, id).
        var keys = all.Select(j => JobIds.Bucket(j.Id) + j.Id).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);

        var cancelledListed = await ListAllAsync("state=cancelled&limit=3");
        Assert.Equal(cancelled.Order(), cancelledListed.Select(j => j.Id).Order());
        Assert.All(cancelledListed, j => Assert.Equal(JobState.Cancelled, j.State));
        Assert.Equal(26, (await ListAllAsync("state=Pending")).Count);

        var group = await ListAllAsync("group=g1&limit=4");
        Assert.Equal(submitted.Where(j => j.Spec.Group == "g1").Select(j => j.Id).Order(), group.Select(j => j.Id).Order());
    }

    [Fact]
    public async Task Listing_refuses_bad_parameters_naming_them()
    {
        using (var response = await Client.GetAsync("/v1/jobs?state=sleeping"))
        {
            await AssertFieldErrorAsync(response, "state");
        }

        using (var response = await Client.GetAsync("/v1/jobs?limit=0"))
        {
            await AssertFieldErrorAsync(response, "limit");
        }

        using (var response = await Client.GetAsync("/v1/jobs?limit=501"))
        {
            await AssertFieldErrorAsync(response, "limit");
        }

        using (var response = await Client.GetAsync("/v1/jobs?cursor=not-ours"))
        {
            await AssertFieldErrorAsync(response, "cursor");
        }

        using var empty = await Client.GetAsync("/v1/jobs");
        var page = await ReadAsync<JobPage>(empty);
        Assert.Empty(page.Items);
        Assert.Null(page.Cursor);
    }

    private async Task<List<JobView>> ListAllAsync(string query, List<JobPage>? pages = null)
    {
        var items = new List<JobView>();
        string? cursor = null;
        // Bounded: 30 jobs never need anywhere near this many pages.
        for (var i = 0; i < 100; i++)
        {
            var url = $"/v1/jobs?{query}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            using var response = await Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await ReadAsync<JobPage>(response);
            pages?.Add(page);
            items.AddRange(page.Items);
            cursor = page.Cursor;
            if (cursor is null)
            {
                return items;
            }
        }

        throw new InvalidOperationException($"Listing {query} did not end within 100 pages.");
    }
}
