using System.Buffers;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Api;

namespace ControlPlane.Director.Events;

/// <summary>
/// Turns one cell's store changes (keys relative to the cell, as <see cref="EventProjector"/> hands them over) into API
/// events (the bodies <c>GET /v1/jobs/{id}</c>, <c>/v1/workers</c>, <c>/v1/leader</c> and
/// <c>/v1/schedules/{id}</c> return), keeping only the state a view needs beyond its own record: the assignments of
/// Assigned jobs (a started attempt shows the job Running, <see cref="JobViews"/>), the records of Assigned jobs (so an
/// assignment's start can be shown as a job event), the drain and suspect markers and registrations of workers, and
/// the election candidates. No I/O: every rule is unit-tested on hand-built changes.
/// </summary>
/// <remarks>Memory is O(workers + candidates + jobs on a worker), never O(all jobs); a change costs O(1) dictionary
/// work plus one serialization of its view. Not thread-safe: the hub applies changes from its one watch loop.</remarks>
internal sealed class CellEventProjector(JsonSerializerOptions json, string cell)
{
    private readonly Dictionary<string, (JobRecord Job, StoreItem Item)> _assigned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoreItem> _assignments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoreItem> _workers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _drains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SuspectRecord> _suspects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoreItem> _candidates = new(StringComparer.Ordinal);
    private string? _leaderKey;

    /// <summary>Replaces every piece of state with what <paramref name="items"/> (a full listing) holds; emits nothing.</summary>
    public void Load(IEnumerable<StoreItem> items)
    {
        _assigned.Clear();
        _assignments.Clear();
        _workers.Clear();
        _drains.Clear();
        _suspects.Clear();
        _candidates.Clear();
        var discard = new List<StreamEvent>();
        foreach (var item in items)
        {
            Apply(new StoreChange(ChangeKind.Put, item.Key, item, item.ModRevision), discard);
        }

        _leaderKey = Leader()?.Key;
    }

    /// <summary>Applies <paramref name="change"/> and appends the events it makes (none, one or a few) to <paramref name="events"/>.</summary>
    public void Apply(StoreChange change, List<StreamEvent> events)
    {
        var parts = change.Key.Split('/');
        switch (parts)
        {
            case [StoreLayout.Jobs, _, var jobId]:
                JobChanged(jobId, change, events);
                break;
            case [StoreLayout.Assignments, _, _]:
                AssignmentChanged(change, events);
                break;
            case [StoreLayout.Workers, var workerId]:
                Set(_workers, workerId, change);
                WorkerChanged(workerId, change.Revision, change.Kind == ChangeKind.Delete, events);
                break;
            case [StoreLayout.Drains, var workerId]:
                Toggle(_drains, workerId, change);
                WorkerChangedIfKnown(workerId, change.Revision, events);
                break;
            case [StoreLayout.Suspects, var workerId]:
                if (change.Kind == ChangeKind.Delete || change.Item is null)
                {
                    _suspects.Remove(workerId);
                }
                else
                {
                    _suspects[workerId] = WorkerQueries.ReadSuspect(change.Item);
                }

                WorkerChangedIfKnown(workerId, change.Revision, events);
                break;
            case ["directors", "election", var candidate] when cell == Cells.Default:
                // Leader events are the default cell's (the body has no cell; /v1/cells reads the others).
                Set(_candidates, candidate, change);
                LeaderMaybeChanged(change.Revision, events);
                break;
            case [StoreLayout.Schedules, var scheduleId]:
                ScheduleChanged(scheduleId, change, events);
                break;
        }
    }

    private void JobChanged(string jobId, StoreChange change, List<StreamEvent> events)
    {
        if (change.Kind == ChangeKind.Delete)
        {
            _assigned.Remove(jobId);
            events.Add(StreamEvent.Create(EventTypes.Job, change.Revision, Envelope(EventTypes.Job, change.Revision, jobId, null, null, 0), jobId: jobId));
            return;
        }

        if (!TryRead<JobRecord>(change.Item!, out var job))
        {
            return;
        }

        if (job.State == JobState.Assigned)
        {
            _assigned[jobId] = (job, change.Item!);
        }
        else
        {
            _assigned.Remove(jobId);
        }

        events.Add(JobEvent(job, change.Item!, change.Revision));
    }

    private void AssignmentChanged(StoreChange change, List<StreamEvent> events)
    {
        // Only a change of what the job view shows (Assigned → Running, its start time) is a job event; the agent's
        // heartbeats and progress writes to the same record are not.
        var before = _assignments.GetValueOrDefault(change.Key);
        Set(_assignments, change.Key, change);
        if (change.Kind == ChangeKind.Delete)
        {
            // An assignment is deleted only together with an update of its job (the fold of a result, a take-back) in
            // one transaction: that update is the event. Shown alone, the job would seem to fall back to Assigned.
            return;
        }

        var name = change.Key[(change.Key.LastIndexOf('/') + 1)..];
        if (!StoreLayout.TryParseAssignmentName(name, out var jobId, out _)
            || !_assigned.TryGetValue(jobId, out var held)
            || OverlayKey(held.Job) != change.Key)
        {
            return;
        }

        var old = JobViews.From(held.Job, before, held.Item.ModRevision);
        var now = JobViews.From(held.Job, change.Item, held.Item.ModRevision);
        if (old.State != now.State || old.StartedAt != now.StartedAt)
        {
            events.Add(JobEvent(held.Job, held.Item, change.Revision, change.Item));
        }
    }

    private StreamEvent JobEvent(JobRecord job, StoreItem item, long revision, StoreItem? assignment = null)
    {
        assignment ??= job.State == JobState.Assigned && OverlayKey(job) is { } key ? _assignments.GetValueOrDefault(key) : null;
        var view = JobViews.From(job, assignment, item.ModRevision) with { Cell = cell };
        var body = Envelope(EventTypes.Job, revision, job.Id, "job", w => JsonSerializer.Serialize(w, view, json), item.Version);
        return StreamEvent.Create(EventTypes.Job, revision, body, job.Id, view.State.ToString(), job.Spec.Group, view.WorkerId);
    }

    private static string? OverlayKey(JobRecord job) =>
        string.IsNullOrEmpty(job.WorkerId) || !JobSpecValidator.IsName(job.WorkerId) ? null : StoreLayout.Assignment(job.WorkerId, job.Id, job.Attempt);

    private void WorkerChangedIfKnown(string workerId, long revision, List<StreamEvent> events)
    {
        if (_workers.ContainsKey(workerId))
        {
            WorkerChanged(workerId, revision, deleted: false, events);
        }
    }

    private void WorkerChanged(string workerId, long revision, bool deleted, List<StreamEvent> events)
    {
        if (deleted)
        {
            events.Add(StreamEvent.Create(EventTypes.Worker, revision, Envelope(EventTypes.Worker, revision, workerId, null, null, 0), workerId: workerId));
            return;
        }

        var item = _workers[workerId];
        if (!TryRead<WorkerRecord>(item, out var worker))
        {
            return;
        }

        var view = WorkerQueries.ToView(worker, workerId, _drains.Contains(workerId), _suspects.GetValueOrDefault(workerId)) with { Cell = cell };
        var body = Envelope(EventTypes.Worker, revision, workerId, "worker", w => JsonSerializer.Serialize(w, view, json), item.Version);
        events.Add(StreamEvent.Create(EventTypes.Worker, revision, body, workerId: workerId));
    }

    private StoreItem? Leader()
    {
        StoreItem? oldest = null;
        foreach (var item in _candidates.Values)
        {
            if (oldest is null || item.CreateRevision < oldest.CreateRevision)
            {
                oldest = item;
            }
        }

        return oldest;
    }

    private void LeaderMaybeChanged(long revision, List<StreamEvent> events)
    {
        var leader = Leader();
        if (leader?.Key == _leaderKey)
        {
            return;
        }

        _leaderKey = leader?.Key;
        LeaderView? view = null;
        if (leader is not null)
        {
            var director = TryRead<DirectorRecord>(leader, out var record) ? record : new DirectorRecord { Id = leader.Key[(leader.Key.LastIndexOf('/') + 1)..] };
            view = new LeaderView(director.Id, director.Url, leader.CreateRevision, director.StartedAt);
        }

        events.Add(StreamEvent.Create(EventTypes.Leader, revision, Write(w =>
        {
            w.WriteString("type", EventTypes.Leader);
            w.WriteNumber("revision", revision);
            w.WritePropertyName("leader");
            JsonSerializer.Serialize(w, view, json);
        })));
    }

    private void ScheduleChanged(string scheduleId, StoreChange change, List<StreamEvent> events)
    {
        if (change.Kind == ChangeKind.Delete)
        {
            events.Add(StreamEvent.Create(EventTypes.Schedule, change.Revision, Envelope(EventTypes.Schedule, change.Revision, scheduleId, null, null, 0)));
            return;
        }

        if (!TryRead<ScheduleRecord>(change.Item!, out var record))
        {
            return;
        }

        var view = ScheduleService.View(record, change.Item!.ModRevision);
        events.Add(StreamEvent.Create(EventTypes.Schedule, change.Revision,
            Envelope(EventTypes.Schedule, change.Revision, scheduleId, "schedule", w => JsonSerializer.Serialize(w, view, json), change.Item.Version)));
    }

    /// <summary><c>{"type","revision","id","deleted"[,"version"][,view]}</c>; a deletion has no view.</summary>
    private byte[] Envelope(string type, long revision, string id, string? property, Action<Utf8JsonWriter>? view, long version) => Write(w =>
    {
        w.WriteString("type", type);
        w.WriteNumber("revision", revision);
        w.WriteString("id", id);
        w.WriteBoolean("deleted", view is null);
        if (view is not null)
        {
            // The record's store version: on ZooKeeper a jump by more than one means writes were coalesced (docs/api.md).
            w.WriteNumber("version", version);
            w.WritePropertyName(property!);
            view(w);
        }
    });

    private static byte[] Write(Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool TryRead<T>(StoreItem item, out T value)
        where T : class
    {
        try
        {
            value = ContractJson.Deserialize<T>(item.Value.Span);
            return true;
        }
        catch (JsonException)
        {
            // A record of another build or a hand edit: the listing endpoints skip it too.
            value = null!;
            return false;
        }
    }

    private static void Set(Dictionary<string, StoreItem> map, string key, StoreChange change)
    {
        if (change.Kind == ChangeKind.Delete)
        {
            map.Remove(key);
        }
        else
        {
            map[key] = change.Item!;
        }
    }

    private static void Toggle(HashSet<string> set, string key, StoreChange change)
    {
        if (change.Kind == ChangeKind.Delete)
        {
            set.Remove(key);
        }
        else
        {
            set.Add(key);
        }
    }
}
