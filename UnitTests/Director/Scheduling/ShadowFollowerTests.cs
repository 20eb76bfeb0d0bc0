using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>A shadow director's follower on an in-memory store: it plans from the watches, records its placements as
/// decisions, compares them with what the leader writes, decides late what it did not see Pending, and never writes.</summary>
public sealed class ShadowFollowerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly PlannerFixture _f = new();
    private readonly ShadowComparison _comparison = new();

    [Fact]
    public async Task The_follower_decides_from_what_it_sees_compares_with_the_leaders_writes_and_writes_nothing()
    {
        var server = new InMemoryStoreServer();
        await using var leader = server.Connect();
        await using var follow = server.Connect();
        var recording = new RecordingStore(follow);
        _f.Worker("a", slots: 4);
        _f.Worker("b", slots: 4);
        var first = _f.Job(new JobSpec { Executor = "sleep" });
        foreach (var item in _f.Items)
        {
            await leader.CommitAsync(new Transaction().Create(item.Key, item.Value, ephemeral: item.IsEphemeral));
        }

        var comparison = _comparison;
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<ShadowOutcome>();
        var follower = new ShadowFollower(new SchedulerOptions(), comparison, NullLoggerFactory.Instance, TimeProvider.System, outcomes.Enqueue);
        using var stop = new CancellationTokenSource();
        var run = follower.RunAsync(recording, stop.Token);

        // Spread places the first job on a (a tie: the lowest id); the leader puts it on b.
        await Eventually.UntilAsync(() => comparison.Outstanding == 1, Deadline);
        await PlaceAsync(leader, first, "b");
        await Eventually.UntilAsync(() => Report().Differ == 1, Deadline);
        Assert.Equal(new[] { ("b", (string?)"a") }, Report().Differences.Select(d => (d.LeaderWorker, d.ShadowWorker)));

        // A job the follower never saw Pending (its view lagged the leader's write) is decided late, from the view
        // without that placement: spread takes a (b holds the first job).
        var second = _f.Job(new JobSpec { Executor = "sleep" });
        await PlaceAsync(leader, second, "a", pendingFirst: false);
        await Eventually.UntilAsync(() => Report().Agree + Report().Unplanned + Report().Differ == 2, Deadline);
        var report = Report();
        Assert.True(report.Following);
        Assert.Equal((1L, 1L, 0L, 1L, 0), (report.Agree, report.Differ, report.Unplanned, report.Late, report.Outstanding));
        Assert.Equal([ShadowOutcome.Differ, ShadowOutcome.Agree], outcomes);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.False(Report().Following);
        Assert.DoesNotContain(recording.Calls, c => c.StartsWith("commit", StringComparison.Ordinal));
    }

    /// <summary>Writes what a leader writes to place <paramref name="job"/> on <paramref name="worker"/>: the job Assigned and
    /// its assignment, in one transaction; with <paramref name="pendingFirst"/> false the job is created Assigned, as a
    /// view that lagged behind the submission and the placement sees it.</summary>
    private async Task PlaceAsync(ICoordinationStore store, JobInfo job, string worker, bool pendingFirst = true)
    {
        var session = (await store.GetAsync(StoreLayout.Worker(worker)))!.Owner;
        var assigned = job.Record with { State = JobState.Assigned, WorkerId = worker, Epoch = _f.Epoch };
        var assignment = new AssignmentRecord
        {
            JobId = job.Record.Id, Attempt = 1, Epoch = _f.Epoch, WorkerSession = session, Executor = "sleep", Slots = 1, State = AttemptState.Assigned,
        };
        var transaction = new Transaction();
        if (pendingFirst)
        {
            transaction.Update(job.Key, ContractJson.Serialize(assigned), (await store.GetAsync(job.Key))!.Version);
        }
        else
        {
            transaction.Create(job.Key, ContractJson.Serialize(assigned));
        }

        var placed = await store.CommitAsync(transaction.Create(StoreLayout.Assignment(worker, job.Record.Id, 1), ContractJson.Serialize(assignment)));
        Assert.True(placed.Succeeded);
    }

    private Contracts.Directors.ShadowReport Report() => _comparison.Snapshot(new Contracts.Directors.ShadowReport());
}
