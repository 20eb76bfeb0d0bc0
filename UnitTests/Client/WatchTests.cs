using System.Net;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using static ControlPlane.UnitTests.Client.ScriptedDirectors;

namespace ControlPlane.UnitTests.Client;

/// <summary>Waiting for a job as an IAsyncEnumerable, and listing a page at a time.</summary>
public sealed class WatchTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";

    private static JobView View(JobState state, long revision, int attempt = 1) => new() { Id = Id, State = state, Attempt = attempt, Revision = revision };

    [Fact]
    public async Task WatchJobAsync_yields_each_change_once_until_terminal_reading_no_older_than_the_last_view()
    {
        JobView[] script = [View(JobState.Pending, 5), View(JobState.Pending, 5), View(JobState.Running, 9), View(JobState.Running, 9), View(JobState.Succeeded, 12)];
        var directors = new ScriptedDirectors((_, n) => Json(HttpStatusCode.OK, script[Math.Min(n, script.Length - 1)]));
        var client = directors.Client(o => o.PollInterval = TimeSpan.FromMilliseconds(10));

        var seen = new List<JobState>();
        await foreach (var view in client.WatchJobAsync(Id, TimeSpan.FromSeconds(30), minRevision: 3))
        {
            seen.Add(view.State);
        }

        Assert.Equal([JobState.Pending, JobState.Running, JobState.Succeeded], seen);
        Assert.Equal(5, directors.Requests.Count);
        Assert.Equal(["?minRevision=3", "?minRevision=5", "?minRevision=5", "?minRevision=9", "?minRevision=9"], directors.Requests.Select(r => r.Uri.Query));
    }

    [Fact]
    public async Task WaitForJobAsync_times_out_with_the_last_view_and_says_the_job_goes_on()
    {
        var directors = new ScriptedDirectors((_, _) => Json(HttpStatusCode.OK, View(JobState.Running, 9) with { WorkerId = "w1" }));
        var client = directors.Client(o => o.PollInterval = TimeSpan.FromMilliseconds(10));

        var e = await Assert.ThrowsAsync<ControlPlaneWaitTimeoutException>(() => client.WaitForJobAsync(Id, TimeSpan.FromMilliseconds(300)));

        Assert.Equal(JobState.Running, e.LastSeen?.State);
        Assert.Contains($"Job {Id} did not finish within 0.3 s; it was last Running (attempt 1 on w1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_the_wait_is_an_OperationCanceledException_not_a_timeout()
    {
        var directors = new ScriptedDirectors((_, _) => Json(HttpStatusCode.OK, View(JobState.Pending, 1)));
        var client = directors.Client(o => o.PollInterval = TimeSpan.FromMilliseconds(10));
        using var cancel = new CancellationTokenSource();

        var wait = client.WaitForJobAsync(Id, TimeSpan.FromMinutes(5), cancellationToken: cancel.Token);
        await ControlPlane.TestSupport.Eventually.UntilAsync(() => directors.Requests.Count >= 2, TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.IsNotType<ControlPlaneWaitTimeoutException>(e);
    }

    [Fact]
    public void WatchJobAsync_checks_its_arguments_when_called_not_when_enumerated()
    {
        var client = new ScriptedDirectors((_, _) => throw new InvalidOperationException("no request expected")).Client();

        Assert.Throws<ArgumentException>(() => client.WatchJobAsync(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => client.WatchJobAsync(Id, TimeSpan.Zero));
    }

    [Fact]
    public async Task ListJobsAsync_follows_cursors_a_page_at_a_time_with_the_filter_on_every_page()
    {
        var directors = new ScriptedDirectors((r, _) => Json(HttpStatusCode.OK, r.Uri.Query.Contains("cursor=c1", StringComparison.Ordinal)
            ? new JobPage([View(JobState.Failed, 1) with { Id = "b" }], null, 10)
            : new JobPage([View(JobState.Failed, 1) with { Id = "a" }], "c1", 10)));
        var client = directors.Client();

        await using var jobs = client.ListJobsAsync(new JobFilter { State = JobState.Failed, Group = "g 1", PageSize = 1 }).GetAsyncEnumerator();
        Assert.True(await jobs.MoveNextAsync());
        Assert.Single(directors.Requests);
        var ids = new List<string> { jobs.Current.Id };
        while (await jobs.MoveNextAsync())
        {
            ids.Add(jobs.Current.Id);
        }

        Assert.Equal(["a", "b"], ids);
        Assert.Equal(["?state=Failed&group=g%201&limit=1", "?state=Failed&group=g%201&limit=1&cursor=c1"], directors.Requests.Select(r => r.Uri.Query));
    }
}
