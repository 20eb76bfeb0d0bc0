using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Api;
using ControlPlane.Director.Events;

namespace ControlPlane.UnitTests.Director.Events;

/// <summary>Store changes in, API events out: the job overlay, worker markers, the leader, and what is ignored.</summary>
public sealed class EventProjectorTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly EventProjector _projector = new(Json);
    private readonly List<StreamEvent> _events = [];
    private long _revision = 100;

    [Fact]
    public void A_job_is_seen_in_every_state_the_API_shows_and_an_agents_heartbeat_is_not_an_event()
    {
        var job = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "echo", Group = "g" }, CreatedAt = DateTimeOffset.UnixEpoch };
        var assignmentKey = StoreLayout.Assignment("w-1", job.Id, 1);
        Put(StoreLayout.Job(job.Id), job);
        var assigned = job with { State = JobState.Assigned, WorkerId = "w-1" };
        var assignment = new AssignmentRecord { JobId = job.Id, Attempt = 1, Executor = "echo" };
        // The leader's assign: the job and its assignment in one revision.
        _revision++;
        Apply(Change(StoreLayout.Job(job.Id), assigned, version: 2), Change(assignmentKey, assignment));
        Put(assignmentKey, assignment with { State = AttemptState.Running, StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(1) }, version: 2);
        Put(assignmentKey, assignment with { State = AttemptState.Running, StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(1), Progress = "half" }, version: 3);
        _revision++;
        // The fold, with the assignment's deletion first (the order ZooKeeper may give): no job event falls back to Assigned.
        Apply(new StoreChange(ChangeKind.Delete, assignmentKey, null, _revision), Change(StoreLayout.Job(job.Id), assigned with { State = JobState.Succeeded }, version: 3));
        Delete(StoreLayout.Job(job.Id));

        Assert.Equal(["Pending", "Assigned", "Running", "Succeeded", null], _events.Select(e => e.State));
        Assert.All(_events, e => Assert.Equal(EventTypes.Job, e.Type));
        Assert.All(_events.Take(4), e => Assert.Equal("g", e.Group));
        Assert.Equal([101, 102, 103, 105, 106], _events.Select(e => e.Revision));
        var running = Data(_events[2]);
        Assert.Equal("w-1", running.GetProperty("job").GetProperty("workerId").GetString());
        Assert.Equal(2, running.GetProperty("version").GetInt64());
        Assert.False(running.GetProperty("deleted").GetBoolean());
        var deleted = Data(_events[4]);
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.False(deleted.TryGetProperty("job", out _));
    }

    [Fact]
    public void A_job_event_carries_exactly_the_view_GET_jobs_id_returns()
    {
        var job = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "echo" }, State = JobState.Failed, ExitCode = 3, Error = "boom" };
        var item = Put(StoreLayout.Job(job.Id), job);

        var expected = JsonSerializer.Serialize(JobViews.From(job, null, item.ModRevision), Json);
        Assert.Equal(expected, Data(Assert.Single(_events)).GetProperty("job").GetRawText());
    }

    [Fact]
    public void Worker_events_follow_the_registration_and_its_drain_and_suspect_markers()
    {
        Put(StoreLayout.Drain("w-gone"), new DrainRecord());
        Put(StoreLayout.Worker("w-1"), new WorkerRecord { Id = "w-1", Slots = 2 });
        Put(StoreLayout.Suspect("w-1"), new SuspectRecord { Reason = "silent" });
        Put(StoreLayout.Drain("w-1"), new DrainRecord());
        Delete(StoreLayout.Drain("w-1"));
        Delete(StoreLayout.Suspect("w-1"));
        Delete(StoreLayout.Worker("w-1"));

        Assert.All(_events, e => Assert.Equal("w-1", e.WorkerId));
        Assert.Equal(["ready", "suspect", "draining", "suspect", "ready", null],
            _events.Select(e => Data(e).TryGetProperty("worker", out var w) ? w.GetProperty("state").GetString() : null));
    }

    [Fact]
    public void A_leader_event_comes_only_when_the_oldest_candidate_changes()
    {
        Put("directors/election/c-b", new DirectorRecord { Id = "d-b", Url = "http://b" }, create: 20);
        Put("directors/election/c-a", new DirectorRecord { Id = "d-a", Url = "http://a" }, create: 10);
        Delete("directors/election/c-b");
        Delete("directors/election/c-a");

        Assert.Equal(["d-b", "d-a", null], _events.Select(e =>
            Data(e).GetProperty("leader") is { ValueKind: JsonValueKind.Object } leader ? leader.GetProperty("directorId").GetString() : null));
        Assert.Equal(10, Data(_events[1]).GetProperty("leader").GetProperty("epoch").GetInt64());
    }

    [Fact]
    public void A_listing_loads_state_without_events_and_other_records_are_ignored()
    {
        var job = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "echo" }, State = JobState.Assigned, WorkerId = "w-1" };
        var assignmentKey = StoreLayout.Assignment("w-1", job.Id, 1);
        _projector.Load([
            Item(StoreLayout.Job(job.Id), job, 10, 10),
            Item(assignmentKey, new AssignmentRecord { JobId = job.Id, Attempt = 1, State = AttemptState.Running }, 10, 11),
            Item(StoreLayout.Worker("w-1"), new WorkerRecord { Id = "w-1" }, 5, 5),
            Item(StoreLayout.Drain("w-1"), new DrainRecord(), 12, 12),
        ]);
        Assert.Empty(_events);

        Put(StoreLayout.Job(job.Id), job with { CancelRequested = true });
        Put(StoreLayout.QueueStatus, new QueueStatusRecord());
        Put("idempotency/ab/abcdef", new IdempotencyRecord());
        Put(StoreLayout.Suspect("w-1"), new SuspectRecord());

        Assert.Equal(["Running", null], _events.Select(e => e.State));
        Assert.Equal("draining", Data(_events[1]).GetProperty("worker").GetProperty("state").GetString());
    }

    [Fact]
    public void Changes_in_a_named_cell_are_events_of_that_cell_with_the_same_overlay_and_markers()
    {
        var job = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "echo" }, State = JobState.Assigned, WorkerId = "w-a" };
        var assignmentKey = Cells.Key("a", StoreLayout.Assignment("w-a", job.Id, 1));
        // Loaded from a listing of the root: the named cell's assignment overlays its job, as in the default cell.
        _projector.Load([
            Item(Cells.Key("a", StoreLayout.Job(job.Id)), job, 10, 10),
            Item(assignmentKey, new AssignmentRecord { JobId = job.Id, Attempt = 1 }, 10, 10),
            Item(Cells.Key("a", StoreLayout.Worker("w-a")), new WorkerRecord { Id = "w-a" }, 5, 5),
        ]);
        Put(assignmentKey, new AssignmentRecord { JobId = job.Id, Attempt = 1, State = AttemptState.Running, StartedAt = DateTimeOffset.UnixEpoch }, version: 2);
        Put(Cells.Key("a", StoreLayout.Drain("w-a")), new DrainRecord());
        Put(StoreLayout.Worker("w-a"), new WorkerRecord { Id = "w-a" });
        // A leader change in a named cell is not a (default cell's) leader event; a key naming no valid cell is ignored.
        Put(Cells.Key("a", StoreLayout.Election + "/c-1"), new DirectorRecord { Id = "d-1" });
        Put("cells/Bad/jobs/00/x", job);
        Put("cells/default/workers/w-x", new WorkerRecord { Id = "w-x" });

        Assert.Equal([EventTypes.Job, EventTypes.Worker, EventTypes.Worker], _events.Select(e => e.Type));
        var running = Data(_events[0]).GetProperty("job");
        Assert.Equal(("Running", "a", "w-a"), (running.GetProperty("state").GetString(), running.GetProperty("cell").GetString(), running.GetProperty("workerId").GetString()));
        var draining = Data(_events[1]).GetProperty("worker");
        Assert.Equal(("draining", "a"), (draining.GetProperty("state").GetString(), draining.GetProperty("cell").GetString()));
        // The same worker id in the default cell is another worker: registered without a drain.
        var other = Data(_events[2]).GetProperty("worker");
        Assert.Equal(("ready", "default"), (other.GetProperty("state").GetString(), other.GetProperty("cell").GetString()));
    }

    private StoreItem Put<T>(string key, T record, long version = 1, long? create = null)
    {
        _revision++;
        var change = Change(key, record, version, create);
        Apply(change);
        return change.Item!;
    }

    private void Delete(string key)
    {
        _revision++;
        Apply(new StoreChange(ChangeKind.Delete, key, null, _revision));
    }

    private StoreChange Change<T>(string key, T record, long version = 1, long? create = null) =>
        new(ChangeKind.Put, key, Item(key, record, create ?? _revision, _revision, version), _revision);

    private void Apply(params StoreChange[] changes)
    {
        foreach (var change in changes)
        {
            _projector.Apply(change, _events);
        }
    }

    private static StoreItem Item<T>(string key, T record, long create, long mod, long version = 1) =>
        new(key, ContractJson.Serialize(record), create, mod, version, 0);

    private static JsonElement Data(StreamEvent e)
    {
        var text = e.ToString();
        var data = text.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        using var document = JsonDocument.Parse(data);
        return document.RootElement.Clone();
    }
}
