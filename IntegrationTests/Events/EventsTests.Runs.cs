using ControlPlane.Director.Events;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>A subscriber follows a real run of jobs; another resumes on a second director after the first is gone.</summary>
public abstract partial class EventsTests
{
    [Fact]
    public async Task A_subscriber_sees_every_job_of_a_500_job_run_reach_its_final_state_in_revision_order()
    {
        var director = await StartReadyDirectorAsync(runtime: true);
        await StartAgentAsync(slots: 64);
        await using var stream = await SseClient.OpenAsync(director.Client, "?type=job");

        var jobs = await SubmitEchoJobsAsync(director.Client, 500);
        var seen = new List<SseEvent>();
        var done = await ReadUntilAsync(stream, seen, AllSucceeded(jobs), RunDeadline, "500 jobs to succeed");

        Assert.True(done, "the stream ended before every job succeeded");
        Assert.DoesNotContain(seen, e => e.Type is "resync" or "cutoff");
        AssertRevisionOrder(seen);
        // etcd reports every change: every job is seen Pending, Assigned, Running and Succeeded. ZooKeeper may coalesce
        // quick writes to one record, so a state can be skipped, never reordered.
        AssertLifecycles(seen, jobs, everyState: EveryChange);
    }

    [Fact]
    public async Task A_subscriber_that_reconnects_to_another_director_with_Last_Event_ID_after_its_director_is_gone_misses_nothing()
    {
        var leader = StartDirector(runtime: true);
        var first = StartDirector();
        var second = StartDirector();
        await StartAgentAsync(slots: 64);
        // Both followers must be following before the run starts (the second's history must reach back to the resume point).
        await Eventually.UntilAsync(() => first.Service<EventHub>().Revision > 0 && second.Service<EventHub>().Revision > 0, Deadline);
        var seen = new List<SseEvent>();
        long? resumeFrom;
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        await using (var stream = await SseClient.OpenAsync(first.Client, "?type=job"))
        {
            var submitting = SubmitEchoJobsAsync(leader.Client, 300);
            // Part of the run on the first director, then it goes away mid-run.
            Assert.True(await ReadUntilAsync(stream, seen, _ => seen.Count >= 200, RunDeadline, "200 events on the first director"));
            await first.DisposeAsync();
            // Whatever the first director managed to send before it went (a cutoff event, or nothing): read it to the end.
            await ReadUntilAsync(stream, seen, _ => false, Deadline, "the first director's stream to end");
            resumeFrom = stream.LastEventId;
            jobs.UnionWith(await submitting);
        }

        Assert.NotNull(resumeFrom);
        var cut = seen.Count;
        await using var resumed = await SseClient.OpenAsync(second.Client, "?type=job", lastEventId: resumeFrom);
        var succeeded = AllSucceeded(jobs);
        foreach (var e in seen)
        {
            succeeded(e);
        }

        Assert.True(await ReadUntilAsync(resumed, seen, succeeded, RunDeadline, "every job to succeed after the resume"));

        var after = seen.Skip(cut).ToList();
        Assert.DoesNotContain(after, e => e.Type == "resync");
        Assert.All(after, e => Assert.True(e.Revision > resumeFrom, $"revision {e.Revision} at or before the resume point {resumeFrom}"));
        AssertRevisionOrder(after);
        // Nothing missed: every job's whole life (etcd), or every job's end with no state out of order (ZooKeeper).
        AssertLifecycles(seen.Where(e => e.Type != "cutoff"), jobs, everyState: EveryChange);
    }
}
