using System.Diagnostics.Metrics;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Api;
using ControlPlane.Director.Telemetry;
using ControlPlane.TestSupport.Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director;

/// <summary>Submissions, cancellations and listings against the in-memory store, for the paths real servers
/// rarely take: lost replies and the listing's scan budget.</summary>
public sealed class DirectorStoreWritesTests : IAsyncDisposable
{
    private static readonly JobSpec Spec = new() { Executor = "shell", Command = ["/bin/true"] };
    private readonly InMemoryStoreServer _server = new();
    private readonly InMemoryStore _store;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    // Never started: the operations under test get the store as a parameter.
    private readonly StoreConnection _connection = new(new StoreOptions());

    public DirectorStoreWritesTests() => _store = _server.Connect();

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _connection.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task A_keyed_submission_whose_reply_was_lost_is_retried_and_lands_exactly_once()
    {
        var submission = Submission();
        _store.LoseNextCommitReply();

        var outcome = await submission.SubmitAsync(_store, Spec, "key", CancellationToken.None);

        Assert.Equal(SubmitResult.Created, outcome.Result);
        var all = await AllJobsAsync();
        Assert.Equal(outcome.Job!.Id, Assert.Single(all).Id);

        var replay = await submission.SubmitAsync(_store, Spec, "key", CancellationToken.None);
        Assert.Equal(SubmitResult.Replayed, replay.Result);
        Assert.Equal(outcome.Job.Id, replay.Job!.Id);
        Assert.Single(await AllJobsAsync());
    }

    [Fact]
    public async Task A_submission_without_a_key_whose_reply_was_lost_reports_an_unknown_outcome()
    {
        _store.LoseNextCommitReply();

        var outcome = await Submission().SubmitAsync(_store, Spec, null, CancellationToken.None);

        Assert.Equal(SubmitResult.OutcomeUnknown, outcome.Result);
        Assert.True(JobIds.IsValid(outcome.JobId));
    }

    [Fact]
    public async Task Cancelling_a_pending_job_whose_reply_was_lost_is_still_accepted()
    {
        var job = (await Submission().SubmitAsync(_store, Spec, null, CancellationToken.None)).Job!;
        var cancellation = new JobCancellation(_connection, TimeProvider.System, Metrics(), NullLogger<JobCancellation>.Instance);
        _store.LoseNextCommitReply();

        var outcome = await cancellation.CancelAsync(_store, job.Id, CancellationToken.None);

        Assert.Equal(CancelResult.Accepted, outcome.Result);
        Assert.Equal(JobState.Cancelled, outcome.Job!.State);
        Assert.Equal(CancelResult.AlreadyFinished, (await cancellation.CancelAsync(_store, job.Id, CancellationToken.None)).Result);
    }

    [Fact]
    public async Task A_filtered_listing_stops_at_its_scan_budget_with_a_cursor_and_still_reaches_the_end()
    {
        var submission = Submission();
        for (var i = 0; i < 25; i++)
        {
            await submission.SubmitAsync(_store, Spec, null, CancellationToken.None);
        }

        var listing = new JobListing(_connection, scanBudget: 10);
        var pages = 0;
        JobCursor? cursor = null;
        do
        {
            var page = await listing.ListAsync(_store, new JobQuery(JobState.Failed, null, 50, cursor), CancellationToken.None);
            Assert.Empty(page.Items);
            pages++;
            cursor = page.Cursor is null ? null : JobCursor.TryDecode(page.Cursor, out var next) ? next : throw new InvalidOperationException("bad cursor");
        }
        while (cursor is not null && pages < 10);

        // 25 jobs, 10 examined per request: three requests, the last one ending the listing.
        Assert.Equal(3, pages);
        Assert.Null(cursor);
    }

    private JobSubmission Submission() => new(_connection, TimeProvider.System, Metrics(), NullLogger<JobSubmission>.Instance, new CellRouter(TimeProvider.System));

    private DirectorMetrics Metrics() => new(_services.GetRequiredService<IMeterFactory>());

    private async Task<List<JobView>> AllJobsAsync() =>
        [.. (await new JobListing(_connection).ListAsync(_store, new JobQuery(null, null, 500, null), CancellationToken.None)).Items];
}
