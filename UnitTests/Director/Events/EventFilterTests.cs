using ControlPlane.Director.Events;

namespace ControlPlane.UnitTests.Director.Events;

/// <summary>Parsing and matching of <c>GET /v1/events</c> filters.</summary>
public sealed class EventFilterTests
{
    private const string JobA = "0190a1b2c3d4e5f60718293a4b5c6d7e";
    private const string JobB = "0190a1b2c3d4e5f60718293a4b5c6d7f";

    private static readonly StreamEvent PendingA = Job(JobA, "Pending", "g1", null);
    private static readonly StreamEvent RunningB = Job(JobB, "Running", null, "w-1");
    private static readonly StreamEvent DeletedA = StreamEvent.Create(EventTypes.Job, 5, "{}"u8, jobId: JobA);
    private static readonly StreamEvent Worker1 = StreamEvent.Create(EventTypes.Worker, 6, "{}"u8, workerId: "w-1");
    private static readonly StreamEvent Leader = StreamEvent.Create(EventTypes.Leader, 7, "{}"u8);
    private static readonly StreamEvent Schedule = StreamEvent.Create(EventTypes.Schedule, 8, "{}"u8);
    private static readonly StreamEvent Resync = StreamEvent.Create(EventTypes.Resync, 9, "{}"u8);

    [Fact]
    public void No_filter_passes_everything()
    {
        var filter = Parse();
        Assert.All([PendingA, RunningB, DeletedA, Worker1, Leader, Schedule, Resync], e => Assert.True(filter.Matches(e)));
    }

    [Fact]
    public void A_job_filter_passes_that_jobs_events_its_deletion_included_and_resyncs()
    {
        var filter = Parse(job: JobA);
        Assert.Equal([PendingA, DeletedA, Resync], Passing(filter));
        Assert.Equal([PendingA, RunningB, DeletedA, Resync], Passing(Parse(job: $"{JobA},{JobB}")));
    }

    [Fact]
    public void States_are_case_insensitive_and_comma_separated_and_never_match_a_deletion()
    {
        var filter = Parse(state: "pending, RUNNING");
        Assert.Equal([PendingA, RunningB, Resync], Passing(filter));
        Assert.Equal([RunningB, Resync], Passing(Parse(state: "Running")));
    }

    [Fact]
    public void A_worker_filter_passes_the_worker_and_the_jobs_on_it()
    {
        Assert.Equal([RunningB, Worker1, Resync], Passing(Parse(worker: "w-1")));
    }

    [Fact]
    public void A_group_filter_passes_the_groups_jobs_only()
    {
        Assert.Equal([PendingA, Resync], Passing(Parse(group: "g1")));
    }

    [Fact]
    public void A_type_filter_selects_event_types_and_combines_with_the_others()
    {
        Assert.Equal([Leader, Schedule, Resync], Passing(Parse(type: "leader,Schedule")));
        Assert.Equal([Worker1, Resync], Passing(Parse(type: "worker", worker: "w-1")));
        Assert.Equal([Resync], Passing(Parse(type: "leader", job: JobA)));
    }

    [Theory]
    [InlineData("xyz", null, null, null, null, "job")]
    [InlineData(null, "Pending,Bogus", null, null, null, "state")]
    [InlineData(null, "1", null, null, null, "state")]
    [InlineData(null, null, "", null, null, "group")]
    [InlineData(null, null, null, "a/b", null, "worker")]
    [InlineData(null, null, null, null, "jobs", "type")]
    [InlineData(null, null, null, null, "resync", "type")]
    public void A_bad_parameter_is_named(string? job, string? state, string? group, string? worker, string? type, string field)
    {
        var errors = new List<(string Field, string Message)>();
        Assert.Null(EventFilter.Parse(job, state, group, worker, type, errors));
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    private static EventFilter Parse(string? job = null, string? state = null, string? group = null, string? worker = null, string? type = null)
    {
        var errors = new List<(string Field, string Message)>();
        var filter = EventFilter.Parse(job, state, group, worker, type, errors);
        Assert.Empty(errors);
        return filter!;
    }

    private static List<StreamEvent> Passing(EventFilter filter) =>
        [.. new[] { PendingA, RunningB, DeletedA, Worker1, Leader, Schedule, Resync }.Where(filter.Matches)];

    private static StreamEvent Job(string id, string state, string? group, string? worker) =>
        StreamEvent.Create(EventTypes.Job, 1, "{}"u8, id, state, group, worker);
}
