using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The leader's picture of the store for one term, kept up to date change by change from the watch deltas (never
/// rebuilt per pass) and indexed for what a pass asks: jobs by id and state, assignments by key, job and worker,
/// FIFO groups with their head and whether one of them is out, concurrency keys with their jobs out and unfinished
/// and their records, the queue of jobs whose turn has come (<see cref="JobQueue"/>), ready workers with room
/// (<see cref="WorkerIndex"/>) and one heap of deadlines (<see cref="Deadlines"/>). Applying a change costs O(log n)
/// and marks what it may affect as dirty; a pass judges only dirty and due items (<see cref="Planner"/>).
/// </summary>
/// <remarks>
/// Records are parsed once per change; a record that cannot be read is quarantined (logged once, left in place, never
/// a crash). What the leader observes on its own clock (when it first saw an assignment, when it last changed, when it
/// started running, since when a job's assignment is missing) lives here too: start timeouts, job timeouts and
/// suspicion are measured from it, so clock skew between machines never enters. Not thread-safe: one pass loop owns it.
/// </remarks>
internal sealed partial class LeaderState
{
    private readonly ILogger _logger;
    private readonly HashSet<string> _quarantined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, AssignmentInfo>> _byWorker = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<AssignmentInfo>> _byJob = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _used = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, JobInfo>> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _dependents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyCount> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _unfinishedByRecord = new(StringComparer.Ordinal);
    private readonly int[] _byState = new int[Enum.GetValues<JobState>().Length];

    /// <summary>An empty state.</summary>
    /// <param name="logger">Logs quarantined records.</param>
    /// <param name="placement">The placement strategy of its <see cref="Index"/> (<see cref="SchedulerOptions.Placement"/>).</param>
    public LeaderState(ILogger logger, PlacementStrategy placement = PlacementStrategy.Spread)
    {
        _logger = logger;
        Index = new WorkerIndex(placement);
    }

    /// <summary>Live, readable worker registrations by id.</summary>
    public Dictionary<string, WorkerInfo> Workers { get; } = new(StringComparer.Ordinal);

    /// <summary>Workers with a drain record.</summary>
    public HashSet<string> Drains { get; } = new(StringComparer.Ordinal);

    /// <summary>Workers with a suspect record (live or not).</summary>
    public HashSet<string> Suspects { get; } = new(StringComparer.Ordinal);

    /// <summary>Readable jobs by id.</summary>
    public Dictionary<string, JobInfo> Jobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Assignments by key (unreadable ones included, with a null record).</summary>
    public Dictionary<string, AssignmentInfo> Assignments { get; } = new(StringComparer.Ordinal);

    /// <summary>For jobs recorded as Assigned or Running whose assignment does not exist: when this leader first noticed.</summary>
    public Dictionary<string, DateTimeOffset> MissingSince { get; } = new(StringComparer.Ordinal);

    /// <summary>Jobs whose turn has come.</summary>
    public JobQueue Queue { get; } = new();

    /// <summary>Ready workers with room.</summary>
    public WorkerIndex Index { get; }

    /// <summary>Every time-based decision.</summary>
    public Deadlines Deadlines { get; } = new();

    /// <summary>Jobs to judge in the next pass (changed, or their group changed, or a write on them failed).</summary>
    public HashSet<string> DirtyJobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Assignments to judge in the next pass.</summary>
    public HashSet<string> DirtyAssignments { get; } = new(StringComparer.Ordinal);

    /// <summary>Workers whose suspicion to judge in the next pass.</summary>
    public HashSet<string> DirtyWorkers { get; } = new(StringComparer.Ordinal);

    /// <summary>Concurrency keys' records by store key (an unreadable one too, with no job named).</summary>
    public Dictionary<string, KeyRecordInfo> KeyRecords { get; } = new(StringComparer.Ordinal);

    /// <summary>Concurrency records to judge in the next pass (they appeared, changed, or no unfinished job needs them
    /// any more): removed once no unfinished job carries their key.</summary>
    public HashSet<string> DirtyKeyRecords { get; } = new(StringComparer.Ordinal);

    /// <summary>Readable schedules by id.</summary>
    public Dictionary<string, ScheduleInfo> Schedules { get; } = new(StringComparer.Ordinal);

    /// <summary>Schedules whose ticks to judge in the next pass.</summary>
    public HashSet<string> DirtySchedules { get; } = new(StringComparer.Ordinal);

    /// <summary>The unfinished jobs a schedule created (its active runs), oldest first (jobs created together in tick
    /// order). Costs O(r log r) for r active runs of the schedule.</summary>
    public IReadOnlyList<JobInfo> ActiveRuns(string scheduleId) =>
        _runs.TryGetValue(scheduleId, out var runs)
            ? [.. runs.Values.OrderBy(r => r.CreateRevision).ThenBy(r => r.Record.ScheduledFor).ThenBy(r => r.Record.Id, StringComparer.Ordinal)]
            : [];

    /// <summary>Whether a Waiting job lists <paramref name="jobId"/> in its <c>dependsOn</c> (so its outcome is still
    /// needed and it is kept past retention).</summary>
    public bool HasWaitingDependents(string jobId) => _dependents.ContainsKey(jobId);

    /// <summary>Jobs with concurrency key <paramref name="key"/> out on workers (Assigned or Running). O(1).</summary>
    public int KeyOut(string key) => _keys.TryGetValue(key, out var k) ? k.Out : 0;

    /// <summary>The store key of <paramref name="key"/>'s record (hashed once while the key has unfinished jobs).</summary>
    public string KeyRecordOf(string key) => _keys.TryGetValue(key, out var k) ? k.RecordKey : ConcurrencyRecord.StoreKeyOf(key);

    /// <summary>Whether an unfinished job carries a key whose record is <paramref name="recordKey"/>.</summary>
    public bool KeyRecordNeeded(string recordKey) => _unfinishedByRecord.ContainsKey(recordKey);

    /// <summary>
    /// Whether this view holds the placement that last wrote <paramref name="recordKey"/> (or there is none), so the
    /// record's version may guard a new placement. The record names every job of that placement with its attempt; while
    /// this view still shows one of them Pending at that attempt, the record came in ahead of the job (another watch, or
    /// a placement whose answer was lost), and a count from this view could miss that placement. Every job is checked,
    /// not one: a view may hold part of one transaction (ZooKeeper's watches read changed keys in batches). Once all are
    /// seen placed (or later: finished, retried, removed), every earlier placement of the key is in the view too: each
    /// was planned from a view that held all before it, and views never go back. O(jobs of one placement), at most 30.
    /// </summary>
    public bool KeySettled(string recordKey)
    {
        if (!KeyRecords.TryGetValue(recordKey, out var record))
        {
            return true;
        }

        foreach (var (jobId, placedAttempt) in record.Placed)
        {
            if (Jobs.TryGetValue(jobId, out var job)
                && (job.Record.Attempt < placedAttempt || (job.Record.Attempt == placedAttempt && job.Record.State is JobState.Pending or JobState.Waiting)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Jobs in <paramref name="state"/>.</summary>
    public int Count(JobState state) => _byState[(int)state];

    /// <summary>Jobs per state, every state named (zero included): what the leader publishes for the dashboard.</summary>
    public IReadOnlyDictionary<string, int> CountsByState()
    {
        var counts = new Dictionary<string, int>(_byState.Length, StringComparer.Ordinal);
        foreach (var state in Enum.GetValues<JobState>())
        {
            counts[state.ToString()] = _byState[(int)state];
        }

        return counts;
    }

    /// <summary>The assignments of <paramref name="jobId"/> (usually one; a stale one may linger until withdrawn).</summary>
    public IReadOnlyList<AssignmentInfo> AssignmentsOf(string jobId) => _byJob.TryGetValue(jobId, out var list) ? list : [];

    /// <summary>The assignments under <paramref name="workerId"/>.</summary>
    public IEnumerable<AssignmentInfo> AssignmentsOn(string workerId) =>
        _byWorker.TryGetValue(workerId, out var map) ? map.Values : [];

    /// <summary>Pending jobs per FIFO group (groups with none left out); a live view, enumerated only when read.</summary>
    public IReadOnlyDictionary<string, int> PendingByGroup => new GroupCounts(_groups);

    /// <summary>FIFO groups in which a Pending job waits behind another job of the group: the group's oldest unfinished
    /// job (the one the others wait for) and its pending count. Enumerated only when read: O(groups).</summary>
    public IEnumerable<(string Group, JobInfo Head, int Pending)> WaitingGroups() =>
        _groups.Where(g => g.Value.Unfinished.Count > 0 && g.Value.Pending > (g.Value.Busy > 0 ? 0 : 1))
            .Select(g => (g.Key, g.Value.Unfinished.Min!, g.Value.Pending));

    /// <summary>The FIFO group's oldest unfinished job and whether one of the group is out on a worker.</summary>
    public (JobInfo? Head, bool Busy) GroupOf(string group) =>
        _groups.TryGetValue(group, out var g) ? (g.Unfinished.Min, g.Busy > 0) : (null, false);

    /// <summary>Applies one change of the trees the leader follows; <paramref name="now"/> is the leader's clock.</summary>
    public void Apply(StoreChange change, DateTimeOffset now)
    {
        var parent = StoreKeys.Parent(change.Key);
        var grandparent = parent is null ? null : StoreKeys.Parent(parent);
        var name = StoreKeys.Name(change.Key);
        var item = change.Kind == ChangeKind.Put ? change.Item : null;
        if (parent == StoreLayout.Workers)
        {
            ApplyWorker(name, item, now);
        }
        else if (parent == StoreLayout.Drains)
        {
            ApplyMarker(Drains, name, item);
            DirtyWorkers.Add(name); // a suspect worker's probe waits while it drains
        }
        else if (parent == StoreLayout.Suspects)
        {
            ApplyMarker(Suspects, name, item);
            ObserveSuspect(name, item, now);
            DirtyWorkers.Add(name);
        }
        else if (grandparent == StoreLayout.Jobs)
        {
            ApplyJob(change.Key, name, item);
        }
        else if (parent == StoreLayout.Schedules)
        {
            ApplySchedule(change.Key, name, item);
        }
        else if (parent == StoreLayout.Workflows)
        {
            ApplyWorkflow(change.Key, name, item);
        }
        else if (grandparent == StoreLayout.Concurrency)
        {
            ApplyKeyRecord(change, item);
        }
        else if (grandparent == StoreLayout.Assignments)
        {
            ApplyAssignment(change.Key, StoreKeys.Name(parent!), name, item, now);
        }
        else if (item is not null && !change.Key.StartsWith(StoreLayout.Assignments + "/", StringComparison.Ordinal))
        {
            // Keys at other depths under the followed trees are not ours to judge; an assignment at the wrong depth
            // is quarantined below like any misnamed one.
            return;
        }
        else if (item is not null)
        {
            Quarantine(change.Key, "it is not named assignments/<worker>/<job>.<attempt>");
        }
    }

    /// <summary>
    /// Applies what the leader itself just committed, without waiting for its watch to bring it back: the next pass
    /// plans from the results at once (a freed slot is used in the very next pass). Safe because every write was
    /// conditioned on the version the state held, so nothing between that version and the commit went unseen; when
    /// the watch delivers the same change later it is recognised and skipped, and the watch's order still brings
    /// the state to the store's.
    /// </summary>
    public void ApplyCommitted(CommittedWrite committed, DateTimeOffset now)
    {
        var operations = committed.Write.Operations;
        for (var i = 0; i < operations.Count; i++)
        {
            var operation = operations[i];
            if (operation.Kind == OperationKind.Delete)
            {
                Apply(new StoreChange(ChangeKind.Delete, operation.Key, null, committed.Revision), now);
            }
            else if (committed.Items[i] is { } item)
            {
                Apply(new StoreChange(ChangeKind.Put, operation.Key, item, item.ModRevision), now);
            }
            else
            {
                MarkKey(operation.Key); // no item to apply: judged again once the watch brings it
            }
        }
    }

    /// <summary>Sets the slots <paramref name="assignment"/> holds, keeping its worker's load and index in step.</summary>
    public void SetHolds(AssignmentInfo assignment, int slots)
    {
        var delta = slots - assignment.Holds;
        if (delta == 0)
        {
            return;
        }

        assignment.Holds = slots;
        _used[assignment.WorkerId] = _used.GetValueOrDefault(assignment.WorkerId) + delta;
        if (Workers.TryGetValue(assignment.WorkerId, out var worker))
        {
            Index.Remove(worker);
            worker.Used += delta;
            Index.Add(worker);
        }
    }

    /// <summary>Marks what a write touches for judging again (its commit failed or its outcome is unknown).</summary>
    public void Redo(PlannedWrite write)
    {
        foreach (var key in write.Operations.Select(o => o.Key).Concat(write.Conditions.Select(c => c.Key)))
        {
            MarkKey(key);
        }

        if (write.JobId is { } jobId)
        {
            DirtyJobs.Add(jobId);
        }
    }

    /// <summary>Marks an item whose deadline came.</summary>
    public void MarkDue(Item item)
    {
        switch (item.Kind)
        {
            case ItemKind.Job:
                DirtyJobs.Add(item.Id);
                break;
            case ItemKind.Assignment:
                DirtyAssignments.Add(item.Id);
                break;
            case ItemKind.Worker:
                DirtyWorkers.Add(item.Id);
                break;
            case ItemKind.Schedule:
                DirtySchedules.Add(item.Id);
                break;
            case ItemKind.Workflow:
                DirtyWorkflows.Add(item.Id);
                break;
        }
    }

    /// <summary>Takes over what <paramref name="earlier"/> observed on this leader's clock (a self-check rebuild
    /// must not restart start timeouts or heartbeat windows).</summary>
    private void CarryObservations(LeaderState earlier)
    {
        foreach (var mine in Assignments.Values.ToList())
        {
            if (earlier.Assignments.TryGetValue(mine.Key, out var seen))
            {
                var observed = ReplaceObservation(mine, seen);
                observed.Holds = mine.Holds;
                Unlink(mine);
                Assignments[mine.Key] = observed;
                Link(observed);
            }
        }

        foreach (var (jobId, since) in earlier.MissingSince)
        {
            MissingSince[jobId] = since;
        }
    }

    /// <summary>
    /// A state built afresh from <paramref name="items"/> (every record applied, every item dirty), taking over what
    /// <paramref name="observedBy"/> observed on this leader's clock: the start of a term, or the self-check's rebuild.
    /// </summary>
    public static LeaderState Rebuild(IEnumerable<StoreItem> items, DateTimeOffset now, ILogger logger, LeaderState? observedBy)
    {
        var state = new LeaderState(logger, observedBy?.Index.Strategy ?? PlacementStrategy.Spread) { BeatWindow = observedBy?.BeatWindow ?? 32 };
        foreach (var item in items)
        {
            state.Apply(new StoreChange(ChangeKind.Put, item.Key, item, item.ModRevision), now);
        }

        if (observedBy is not null)
        {
            state.CarryObservations(observedBy);
            state.CarryHealth(observedBy);
        }

        return state;
    }

    /// <summary>Up to <paramref name="max"/> lines of the recorded state that differ between this state and
    /// <paramref name="other"/> (none when both hold the same records and indexes).</summary>
    public List<string> Differences(LeaderState other, int max)
    {
        var mine = Fingerprint().ToList();
        var theirs = other.Fingerprint().ToList();
        return [.. mine.Except(theirs, StringComparer.Ordinal).Select(l => "only here: " + l)
            .Concat(theirs.Except(mine, StringComparer.Ordinal).Select(l => "only there: " + l)).Take(max)];
    }

    /// <summary>A summary of the recorded state (not of judgements), equal for two states fed the same store content.</summary>
    public IEnumerable<string> Fingerprint()
    {
        foreach (var (id, job) in Jobs.OrderBy(j => j.Key, StringComparer.Ordinal))
        {
            yield return $"job {id} v{job.Version} {job.Record.State}";
        }

        foreach (var (key, a) in Assignments.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            yield return $"assignment {key} r{a.ModRevision}";
        }

        foreach (var (id, w) in Workers.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            yield return $"worker {id} s{w.Session} ready={w.Ready}";
        }

        foreach (var (name, g) in _groups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            yield return $"group {name} head={g.Unfinished.Min?.Record.Id} unfinished={g.Unfinished.Count} busy={g.Busy}";
        }

        foreach (var (id, schedule) in Schedules.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            yield return $"schedule {id} v{schedule.Version} runs={string.Join(',', ActiveRuns(id).Select(r => r.Record.Id))}";
        }

        foreach (var (upstream, waiting) in _dependents.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            yield return $"dependents {upstream} {string.Join(',', waiting.Order(StringComparer.Ordinal))}";
        }

        foreach (var line in WorkflowFingerprint())
        {
            yield return line;
        }

        foreach (var (key, k) in _keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            yield return $"key {key} out={k.Out} unfinished={k.Unfinished}";
        }

        foreach (var (key, r) in KeyRecords.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            yield return $"key record {key} v{r.Version} c{r.CreateRevision} {r.Job}.{r.Attempt} needed={KeyRecordNeeded(key)}";
        }

        yield return $"drains {string.Join(',', Drains.Order(StringComparer.Ordinal))}";
        yield return $"suspects {string.Join(',', Suspects.Order(StringComparer.Ordinal))}";
        yield return $"states {string.Join(',', _byState)}";
    }

    private static AssignmentInfo ReplaceObservation(AssignmentInfo mine, AssignmentInfo seen) =>
        mine with
        {
            FirstSeen = seen.FirstSeen,
            LastChanged = seen.ModRevision == mine.ModRevision ? seen.LastChanged : mine.LastChanged,
            RunningSince = seen.RunningSince ?? mine.RunningSince,
        };

    private void MarkKey(string key)
    {
        var parent = StoreKeys.Parent(key);
        var grandparent = parent is null ? null : StoreKeys.Parent(parent);
        if (grandparent == StoreLayout.Jobs)
        {
            DirtyJobs.Add(StoreKeys.Name(key));
        }
        else if (grandparent == StoreLayout.Assignments)
        {
            DirtyAssignments.Add(key);
            DirtyWorkers.Add(StoreKeys.Name(parent!));
            if (StoreLayout.TryParseAssignmentName(StoreKeys.Name(key), out var jobId, out _))
            {
                DirtyJobs.Add(jobId);
            }
        }
        else if (parent == StoreLayout.Suspects)
        {
            DirtyWorkers.Add(StoreKeys.Name(key));
        }
        else if (parent == StoreLayout.Schedules)
        {
            DirtySchedules.Add(StoreKeys.Name(key));
        }
        else if (parent == StoreLayout.Workflows)
        {
            DirtyWorkflows.Add(StoreKeys.Name(key));
        }
        else if (grandparent == StoreLayout.Concurrency)
        {
            DirtyKeyRecords.Add(key);
        }
    }

    /// <summary>Most attempts one registration may vouch for (far above any agent's slots): a record listing more
    /// cannot make the leader do unbounded work.</summary>
    private const int MaxListedAttempts = 4096;

    /// <summary>
    /// A registration with feature <c>workerHeartbeat</c> that lists attempts is their report: each listed attempt
    /// of this incarnation has reported now. An attempt listed by a registration of another session (a record
    /// carried over to a new session before its first beat) does not count.
    /// </summary>
    private void ObserveBeat(WorkerInfo worker, DateTimeOffset now)
    {
        if (worker.Record.Running is not { Count: > 0 } running || !worker.Record.Features.Contains(Protocol.Features.WorkerHeartbeat))
        {
            return;
        }

        var prefix = StoreLayout.WorkerAssignments(worker.Id) + "/";
        foreach (var name in running.Take(MaxListedAttempts))
        {
            if (Assignments.TryGetValue(prefix + name, out var assignment) && assignment.Record?.WorkerSession == worker.Session)
            {
                assignment.LastChanged = now;
            }
        }
    }

    private void ApplyWorker(string id, StoreItem? item, DateTimeOffset now)
    {
        WorkerInfo? next = null;
        if (item is { IsEphemeral: true } && TryParse<WorkerRecord>(item) is { } record)
        {
            next = new WorkerInfo(id, record, item.Owner, Drains.Contains(id), Suspects.Contains(id))
            {
                Used = _used.GetValueOrDefault(id),
                Version = item.Version,
                CreateRevision = item.CreateRevision,
            };
        }

        Workers.TryGetValue(id, out var previous);
        if (previous is not null)
        {
            Index.Remove(previous);
            Workers.Remove(id);
        }

        CountWorker(previous, next);
        if (next is not null)
        {
            // A probe stays open across beats of the same incarnation.
            next.Probe = previous?.Session == next.Session && previous.Probe;
            Workers[id] = next;
            Index.Add(next);
            ObserveBeat(next, now);
            ObserveHealth(next, now);
        }
        else
        {
            Health.Remove(id);
        }

        DirtyWorkers.Add(id);
        if (previous?.Session != next?.Session || previous?.Record.HeartbeatSeconds != next?.Record.HeartbeatSeconds
            || previous?.ShapeKey != next?.ShapeKey)
        {
            // Gone, back, or a new incarnation: its attempts are judged again (taken back when they are not its own); so
            // when its heartbeat interval or features change (how long an attempt may stay unstarted depends on them).
            foreach (var assignment in AssignmentsOn(id))
            {
                DirtyAssignments.Add(assignment.Key);
            }
        }
    }

    private void ApplyMarker(HashSet<string> markers, string workerId, StoreItem? item)
    {
        var changed = item is null ? markers.Remove(workerId) : markers.Add(workerId);
        if (changed && Workers.TryGetValue(workerId, out var worker))
        {
            Index.Remove(worker);
            var next = worker with { DrainRequested = Drains.Contains(workerId), Suspect = Suspects.Contains(workerId) };
            next.Used = worker.Used;
            next.Probe = worker.Probe && next.Suspect;
            CountWorker(worker, next);
            Workers[workerId] = next;
            Index.Add(next);
        }
    }

    private void ApplyJob(string key, string id, StoreItem? item)
    {
        JobInfo? next = null;
        if (item is not null && TryParse<JobRecord>(item) is { } record)
        {
            if (!JobIds.IsValid(record.Id) || StoreLayout.Job(record.Id) != key)
            {
                Quarantine(key, "its id does not match its key");
            }
            else
            {
                next = new JobInfo(key, record, item.Version, item.CreateRevision, item.Value.Length);
            }
        }

        Jobs.TryGetValue(id, out var previous);
        if (previous is not null && previous.Key != key)
        {
            return; // A key whose name is another job's id: quarantined above, never this job.
        }

        if (previous is not null && item is not null && previous.CreateRevision == item.CreateRevision && previous.Version >= item.Version)
        {
            return; // Already applied (the leader's own write coming back through the watch), or older.
        }

        if (previous is not null)
        {
            _byState[(int)previous.Record.State]--;
            Jobs.Remove(id);
        }

        if (next is not null)
        {
            _byState[(int)next.Record.State]++;
            Jobs[id] = next;
        }
        else
        {
            Queue.Remove(id);
            MissingSince.Remove(id);
        }

        UpdateGroups(previous, next);
        UpdateRuns(previous, next);
        UpdateDependencies(previous, next);
        UpdateWorkflowMembers(previous, next);
        UpdateKeys(previous, next);
        DirtyJobs.Add(id);
    }

    /// <summary>
    /// Keeps the concurrency keys' counts in step with a job's change: per key, the jobs out on workers (Assigned or
    /// Running, what a limit bounds) and the unfinished ones (while there are any, the key's record is kept). O(1)
    /// per change; a key is hashed once, when its first unfinished job appears. A record no unfinished job needs any
    /// more is marked for removal.
    /// </summary>
    private void UpdateKeys(JobInfo? previous, JobInfo? next)
    {
        var before = previous?.Record.Spec.Concurrency?.Key;
        var after = next?.Record.Spec.Concurrency?.Key;
        if (before == after)
        {
            if (before is not null)
            {
                CountKey(before, Out(next) - Out(previous), Unfinished(next) - Unfinished(previous));
            }

            return;
        }

        if (before is not null)
        {
            CountKey(before, -Out(previous), -Unfinished(previous));
        }

        if (after is not null)
        {
            CountKey(after, Out(next), Unfinished(next));
        }

        static int Out(JobInfo? job) => job?.Record.State is JobState.Assigned or JobState.Running ? 1 : 0;
        static int Unfinished(JobInfo? job) => job is not null && !job.Record.State.IsTerminal() ? 1 : 0;
    }

    private void CountKey(string key, int outDelta, int unfinishedDelta)
    {
        if (outDelta == 0 && unfinishedDelta == 0)
        {
            return;
        }

        if (!_keys.TryGetValue(key, out var k))
        {
            k = new KeyCount(ConcurrencyRecord.StoreKeyOf(key));
            _keys[key] = k;
        }

        k.Out += outDelta;
        k.Unfinished += unfinishedDelta;
        if (unfinishedDelta != 0)
        {
            var left = _unfinishedByRecord.GetValueOrDefault(k.RecordKey) + unfinishedDelta;
            if (left > 0)
            {
                _unfinishedByRecord[k.RecordKey] = left;
            }
            else
            {
                _unfinishedByRecord.Remove(k.RecordKey);
                DirtyKeyRecords.Add(k.RecordKey);
            }
        }

        if (k.Unfinished <= 0 && k.Out <= 0)
        {
            _keys.Remove(key);
        }
    }

    /// <summary>
    /// A concurrency record as the store has it. A change older than the one held is skipped (the leader's own write
    /// applied at once, its watch copy later; a removal the watch reports after the record was written again). The
    /// record is judged again in the next pass either way (removed when no unfinished job needs it).
    /// </summary>
    private void ApplyKeyRecord(StoreChange change, StoreItem? item)
    {
        var key = change.Key;
        KeyRecords.TryGetValue(key, out var previous);
        var revision = item?.ModRevision ?? change.Revision;
        if (previous is not null && revision <= previous.ModRevision)
        {
            return;
        }

        if (item is null)
        {
            KeyRecords.Remove(key);
        }
        else
        {
            var record = TryParse<ConcurrencyRecord>(item);
            var job = record is not null && JobIds.IsValid(record.Job) ? record.Job : null;
            var info = new KeyRecordInfo(key, item.Version, item.CreateRevision, item.ModRevision, job, record?.Attempt ?? 0);
            if (record?.Placements is { Count: > 0 } placements)
            {
                // At most a transaction's worth; an entry that is not <jobId>.<attempt> is ignored (hand edit).
                info = info with
                {
                    Placed = [.. placements.Take(64)
                        .Select(p => StoreLayout.TryParseAssignmentName(p ?? "", out var id, out var attempt) && JobIds.IsValid(id) ? (id, attempt) : ("", 0))
                        .Where(p => p.Item1.Length > 0)],
                };
            }

            KeyRecords[key] = info;
        }

        DirtyKeyRecords.Add(key);
    }

    /// <summary>
    /// Keeps the index of Waiting jobs by the jobs they depend on in step with a job's change: a Waiting job's edges
    /// are registered while it waits; when a job ends, appears or is removed (or, by a hand edit, is no longer final
    /// or ends differently) the Waiting jobs that depend on it are judged again, and when a Waiting job stops waiting
    /// its dependencies are judged again (their retention may have been held for it). Cost: O(dependencies) when a job
    /// starts or stops waiting, O(dependents) when one ends; nothing for the other changes (Pending → Assigned →
    /// Running), so Waiting jobs cost a pass nothing until they may move.
    /// </summary>
    private void UpdateDependencies(JobInfo? previous, JobInfo? next)
    {
        if ((previous ?? next)?.Record.Id is not { } id)
        {
            return; // neither readable
        }

        var before = previous?.Record is { State: JobState.Waiting, Spec.DependsOn: { Count: > 0 } b } ? b : null;
        var after = next?.Record is { State: JobState.Waiting, Spec.DependsOn: { Count: > 0 } a } ? a : null;
        var same = before is not null && after is not null && before.Select(d => d.Job).SequenceEqual(after.Select(d => d.Job), StringComparer.Ordinal);
        if (!same)
        {
            // Each dependency gained or lost is judged again: its retention is held only while a job waits for it.
            foreach (var dependency in before ?? [])
            {
                if (_dependents.TryGetValue(dependency.Job, out var waiting) && waiting.Remove(id) && waiting.Count == 0)
                {
                    _dependents.Remove(dependency.Job);
                }

                DirtyJobs.Add(dependency.Job);
            }

            foreach (var dependency in after ?? [])
            {
                if (!_dependents.TryGetValue(dependency.Job, out var waiting))
                {
                    waiting = new HashSet<string>(StringComparer.Ordinal);
                    _dependents[dependency.Job] = waiting;
                }

                waiting.Add(id);
                DirtyJobs.Add(dependency.Job);
            }
        }

        // What a dependent's judgement reads of this job: whether it exists, whether it is final, and its final state.
        var was = previous?.Record.State;
        var @is = next?.Record.State;
        var matters = previous is null || next is null || (was != @is && (was!.Value.IsTerminal() || @is!.Value.IsTerminal()));
        if (matters && _dependents.TryGetValue(id, out var dependents))
        {
            DirtyJobs.UnionWith(dependents);
        }
    }

    /// <summary>Keeps the index of schedules' active runs in step with a job's change.</summary>
    private void UpdateRuns(JobInfo? previous, JobInfo? next)
    {
        if (previous?.Record.ScheduleId is { } before && _runs.TryGetValue(before, out var runs))
        {
            runs.Remove(previous.Record.Id);
            if (runs.Count == 0)
            {
                _runs.Remove(before);
            }
        }

        if (next?.Record is { ScheduleId: { } after } record && !record.State.IsTerminal())
        {
            if (!_runs.TryGetValue(after, out var active))
            {
                active = new Dictionary<string, JobInfo>(StringComparer.Ordinal);
                _runs[after] = active;
            }

            active[record.Id] = next;
        }
    }

    private void ApplySchedule(string key, string id, StoreItem? item)
    {
        Schedules.TryGetValue(id, out var previous);
        if (previous is not null && item is not null && previous.Version >= item.Version && item.CreateRevision == previous.CreateRevision)
        {
            return; // Already applied (the leader's own write coming back through the watch), or older.
        }

        Schedules.Remove(id);
        if (item is not null && TryParse<ScheduleRecord>(item) is { } record)
        {
            var errors = new List<(string Field, string Message)>();
            var timetable = CronTimetable.TryCreate(record.Spec, errors);
            if (record.Id != id || !JobIds.IsValid(id))
            {
                Quarantine(key, "its id does not match its key");
            }
            else
            {
                if (timetable is null)
                {
                    Quarantine(key, string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
                }

                Schedules[id] = new ScheduleInfo(key, record, item.Version, timetable) { CreateRevision = item.CreateRevision };
            }
        }

        DirtySchedules.Add(id);
    }

    private void UpdateGroups(JobInfo? previous, JobInfo? next)
    {
        var before = previous?.Record.Spec.Group;
        var after = next?.Record.Spec.Group;
        if (before is null && after is null)
        {
            return;
        }

        var heads = new List<string>(4);
        if (before is not null && _groups.TryGetValue(before, out var old))
        {
            heads.AddRange(old.HeadId);
            old.Leave(previous!);
            heads.AddRange(old.HeadId);
            if (old.Unfinished.Count == 0 && old.Busy == 0)
            {
                _groups.Remove(before);
            }
        }

        if (after is not null)
        {
            if (!_groups.TryGetValue(after, out var group))
            {
                group = new Group();
                _groups[after] = group;
            }

            heads.AddRange(group.HeadId);
            group.Join(next!);
            heads.AddRange(group.HeadId);
            if (group.Unfinished.Count == 0 && group.Busy == 0)
            {
                _groups.Remove(after); // only finished jobs: nothing to order
            }
        }

        // The head, or whether the group is out, may have changed: the heads before and after are judged again.
        foreach (var head in heads)
        {
            DirtyJobs.Add(head);
        }
    }

    private void ApplyAssignment(string key, string workerId, string name, StoreItem? item, DateTimeOffset now)
    {
        if (!StoreLayout.TryParseAssignmentName(name, out var jobId, out var attempt))
        {
            if (item is not null)
            {
                Quarantine(key, "it is not named assignments/<worker>/<job>.<attempt>");
            }

            return;
        }

        Assignments.TryGetValue(key, out var previous);
        if (previous is not null && item is not null && previous.ModRevision >= item.ModRevision)
        {
            return; // Already applied (the leader's own write coming back through the watch), or older.
        }

        var held = previous?.Holds ?? 0;
        if (previous is not null)
        {
            SetHolds(previous, 0);
            Unlink(previous);
        }

        if (item is not null)
        {
            var record = TryParse<AssignmentRecord>(item);
            if (record is not null && (record.JobId != jobId || record.Attempt != attempt))
            {
                Quarantine(key, "its job or attempt does not match its key");
                record = null;
            }

            var running = previous?.RunningSince ?? (record?.State == AttemptState.Running ? now : null);
            var next = new AssignmentInfo(key, workerId, jobId, attempt, record, item.Version, item.ModRevision, previous?.FirstSeen ?? now, now, running);
            Assignments[key] = next;
            Link(next);
            ObserveStart(previous, next, now);

            // Until judged again it holds what it held: a report does not free its slots before the pass folds it.
            SetHolds(next, held);
        }

        DirtyAssignments.Add(key);
        DirtyJobs.Add(jobId);
        DirtyWorkers.Add(workerId);
    }

    private void Link(AssignmentInfo assignment)
    {
        if (!_byWorker.TryGetValue(assignment.WorkerId, out var onWorker))
        {
            onWorker = new Dictionary<string, AssignmentInfo>(StringComparer.Ordinal);
            _byWorker[assignment.WorkerId] = onWorker;
        }

        onWorker[assignment.Key] = assignment;
        if (!_byJob.TryGetValue(assignment.JobId, out var ofJob))
        {
            ofJob = new List<AssignmentInfo>(1);
            _byJob[assignment.JobId] = ofJob;
        }

        ofJob.Add(assignment);
    }

    private void Unlink(AssignmentInfo assignment)
    {
        Assignments.Remove(assignment.Key);
        if (_byWorker.TryGetValue(assignment.WorkerId, out var onWorker) && onWorker.Remove(assignment.Key) && onWorker.Count == 0)
        {
            _byWorker.Remove(assignment.WorkerId);
            if (_used.GetValueOrDefault(assignment.WorkerId) == 0)
            {
                _used.Remove(assignment.WorkerId);
            }
        }

        if (_byJob.TryGetValue(assignment.JobId, out var ofJob))
        {
            ofJob.RemoveAll(a => a.Key == assignment.Key);
            if (ofJob.Count == 0)
            {
                _byJob.Remove(assignment.JobId);
            }
        }
    }

    private T? TryParse<T>(StoreItem item)
        where T : class
    {
        try
        {
            return ContractJson.Deserialize<T>(item.Value.Span);
        }
        catch (JsonException e)
        {
            Quarantine(item.Key, e.Message);
            return null;
        }
    }

    private void Quarantine(string key, string reason)
    {
        if (_quarantined.Add(key))
        {
            SchedulerLog.RecordQuarantined(_logger, key, reason);
        }
    }

    /// <summary>A concurrency key's counts and its record's store key.</summary>
    private sealed class KeyCount(string recordKey)
    {
        public string RecordKey { get; } = recordKey;

        /// <summary>Its jobs out on workers (Assigned or Running).</summary>
        public int Out { get; set; }

        /// <summary>Its jobs not final (Waiting, Pending, Assigned, Running).</summary>
        public int Unfinished { get; set; }
    }

    /// <summary>A FIFO group: its unfinished jobs in submission order, and how many are out on workers.</summary>
    private sealed class Group
    {
        public SortedSet<JobInfo> Unfinished { get; } = new(BySubmission.Instance);

        public int Busy { get; set; }

        public int Pending { get; set; }

        public IEnumerable<string> HeadId => Unfinished.Count == 0 ? [] : [Unfinished.Min!.Record.Id];

        public void Join(JobInfo job)
        {
            if (!job.Record.State.IsTerminal())
            {
                Unfinished.Add(job);
            }

            Busy += job.Record.State is JobState.Assigned or JobState.Running ? 1 : 0;
            Pending += job.Record.State == JobState.Pending ? 1 : 0;
        }

        public void Leave(JobInfo job)
        {
            Unfinished.Remove(job);
            Busy -= job.Record.State is JobState.Assigned or JobState.Running ? 1 : 0;
            Pending -= job.Record.State == JobState.Pending ? 1 : 0;
        }
    }

    /// <summary>Pending counts of the groups that have pending jobs, read through without copying.</summary>
    private sealed class GroupCounts(Dictionary<string, Group> groups) : IReadOnlyDictionary<string, int>
    {
        public int Count => groups.Values.Count(g => g.Pending > 0);

        public IEnumerable<string> Keys => this.Select(p => p.Key);

        public IEnumerable<int> Values => this.Select(p => p.Value);

        public int this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, out int value)
        {
            value = groups.TryGetValue(key, out var g) ? g.Pending : 0;
            return value > 0;
        }

        public IEnumerator<KeyValuePair<string, int>> GetEnumerator() =>
            groups.Where(g => g.Value.Pending > 0).Select(g => new KeyValuePair<string, int>(g.Key, g.Value.Pending)).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class BySubmission : IComparer<JobInfo>
    {
        public static readonly BySubmission Instance = new();

        public int Compare(JobInfo? x, JobInfo? y) =>
            ReferenceEquals(x, y) ? 0
            : x!.CreateRevision != y!.CreateRevision ? x.CreateRevision.CompareTo(y.CreateRevision)
            : string.CompareOrdinal(x.Record.Id, y.Record.Id);
    }
}
