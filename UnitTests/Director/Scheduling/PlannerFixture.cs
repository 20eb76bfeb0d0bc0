using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>
/// Builds what the store holds by hand and plans a pass over a <see cref="LeaderState"/> built from it, the way a
/// leader starts a term (every record applied, every item judged). Observations on the leader's clock (first seen,
/// last changed) are made by applying a record at the time the test names.
/// </summary>
internal sealed class PlannerFixture
{
    private readonly Dictionary<string, StoreItem> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset FirstSeen, DateTimeOffset LastChanged)> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _missing = new(StringComparer.Ordinal);
    private long _revision = 100;
    private int _workers;

    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public SchedulerOptions Options { get; } = new();

    public DateTimeOffset Now { get; set; } = T0;

    public long Epoch { get; set; } = 42;

    /// <summary>The revision the leader's jobs watch has reached; null: every record put so far.</summary>
    public long? JobsRevision { get; set; }

    /// <summary>The revision of the last record put.</summary>
    public long Revision => _revision;

    /// <summary>Every record as the store would list it.</summary>
    public IEnumerable<StoreItem> Items => _items.Values;

    public WorkerInfo Worker(
        string id, int slots = 4, string[]? executors = null, string[]? features = null, Dictionary<string, string>? labels = null,
        long session = 0, bool draining = false, bool drainRequested = false, bool suspect = false, double heartbeatSeconds = 5, string suspectKind = "",
        double? beatFenceSeconds = null)
    {
        var record = new WorkerRecord
        {
            Id = id,
            Slots = slots,
            Executors = executors ?? ["shell", "sleep", "echo"],
            Features = features ?? [.. Protocol.Features.All],
            Labels = labels ?? [],
            Draining = draining,
            HeartbeatSeconds = heartbeatSeconds,
            BeatFenceSeconds = beatFenceSeconds,
        };
        var owner = session == 0 ? 1000 + _workers++ : session;
        Put(StoreLayout.Worker(id), ContractJson.Serialize(record), owner: owner);
        if (drainRequested)
        {
            Put(StoreLayout.Drain(id), ContractJson.Serialize(new DrainRecord()));
        }

        if (suspect)
        {
            Put(StoreLayout.Suspect(id), ContractJson.Serialize(new SuspectRecord { Since = Now, Reason = "test", Kind = suspectKind }));
        }

        var item = _items[StoreLayout.Worker(id)];
        return new WorkerInfo(id, record, owner, drainRequested, suspect) { Version = item.Version, CreateRevision = item.CreateRevision };
    }

    public JobInfo Job(JobSpec? spec = null, JobState state = JobState.Pending, int attempt = 1, string? workerId = null, Func<JobRecord, JobRecord>? edit = null)
    {
        var id = JobIds.New();
        var record = new JobRecord
        {
            Id = id,
            Spec = spec ?? new JobSpec { Executor = "sleep" },
            State = state,
            Attempt = attempt,
            WorkerId = workerId,
            CreatedAt = Now,
        };
        record = edit?.Invoke(record) ?? record;
        var item = Put(StoreLayout.Job(id), ContractJson.Serialize(record));
        return new JobInfo(item.Key, record, item.Version, item.CreateRevision, item.Value.Length);
    }

    /// <summary>A job out on <paramref name="worker"/> with its assignment, as the leader would have written them.</summary>
    public (JobInfo Job, AssignmentInfo Assignment) Running(
        WorkerInfo worker, JobSpec? spec = null, AttemptState state = AttemptState.Running, int attempt = 1,
        Func<AssignmentRecord, AssignmentRecord>? edit = null, DateTimeOffset? firstSeen = null, DateTimeOffset? lastChanged = null)
    {
        var job = Job(spec, JobState.Assigned, attempt, worker.Id);
        var record = new AssignmentRecord
        {
            JobId = job.Record.Id,
            Attempt = attempt,
            Epoch = Epoch,
            WorkerSession = worker.Session,
            Executor = job.Record.Spec.Executor,
            Slots = job.Record.Spec.Slots,
            State = state,
        };
        record = edit?.Invoke(record) ?? record;
        var key = StoreLayout.Assignment(worker.Id, job.Record.Id, attempt);
        var item = Put(key, ContractJson.Serialize(record), version: 3);
        var seen = firstSeen ?? Now;
        _seen[key] = (seen, lastChanged ?? seen);
        var info = new AssignmentInfo(key, worker.Id, job.Record.Id, attempt, record, item.Version, item.ModRevision,
            seen, lastChanged ?? seen, state == AttemptState.Running ? seen : null);
        return (job, info);
    }

    /// <summary>Replaces a job's record, as if it had been written since (its version moves on).</summary>
    public JobInfo Replace(JobInfo job, JobRecord record)
    {
        var held = _items[job.Key];
        var item = Put(job.Key, ContractJson.Serialize(record), version: held.Version + 1, createRevision: held.CreateRevision);
        return job with { Record = record, Version = item.Version };
    }

    /// <summary>Keeps the assignments <paramref name="keep"/> maps to themselves (dropping the others) and adds
    /// <paramref name="extra"/>.</summary>
    public void ReplaceAssignments(Func<AssignmentInfo, AssignmentInfo?> keep, AssignmentInfo extra)
    {
        var prefix = StoreLayout.Assignments + "/";
        foreach (var item in _items.Values.Where(i => i.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            var info = ToInfo(item);
            if (info.Key != extra.Key && keep(info) is null)
            {
                _items.Remove(item.Key);
            }
        }

        Put(extra.Key, ContractJson.Serialize(extra.Record!), version: extra.Version);
        _seen[extra.Key] = (extra.FirstSeen, extra.LastChanged);
    }

    /// <summary>A workflow record, as a director or the leader would have written it.</summary>
    public WorkflowInfo Workflow(WorkflowRecord record, long version = 1)
    {
        var item = Put(StoreLayout.Workflow(record.Id), ContractJson.Serialize(record), version: version);
        return new WorkflowInfo(item.Key, record, item.Version, item.ModRevision);
    }

    /// <summary>The record of concurrency key <paramref name="key"/> at <paramref name="version"/>, naming the job and
    /// attempt of its last placement.</summary>
    public StoreItem KeyRecord(string key, JobInfo lastPlaced, long version = 1, params JobInfo[] placedWith) =>
        Put(ConcurrencyRecord.StoreKeyOf(key), ContractJson.Serialize(new ConcurrencyRecord
        {
            Key = key, Job = lastPlaced.Record.Id, Attempt = lastPlaced.Record.Attempt, Placed = 1 + placedWith.Length, Epoch = Epoch, At = Now,
            Placements = [.. placedWith.Prepend(lastPlaced).Select(j => $"{j.Record.Id}.{j.Record.Attempt}")],
        }), version: version);

    public void RemoveWorker(string id) => _items.Remove(StoreLayout.Worker(id));

    public void MissingSince(string jobId, DateTimeOffset since) => _missing[jobId] = since;

    /// <summary>A leader state built from the records, observations made at the times the test named.</summary>
    public LeaderState Build()
    {
        var state = new LeaderState(NullLogger.Instance, Options.PlacementStrategy);
        foreach (var item in _items.Values.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            var (firstSeen, lastChanged) = _seen.GetValueOrDefault(item.Key, (Now, Now));
            state.Apply(new StoreChange(ChangeKind.Put, item.Key, item, item.ModRevision), firstSeen);
            if (lastChanged != firstSeen)
            {
                state.Apply(new StoreChange(ChangeKind.Put, item.Key, item, item.ModRevision), lastChanged);
            }
        }

        foreach (var (jobId, since) in _missing)
        {
            state.MissingSince[jobId] = since;
        }

        state.AdvanceJobsRevision(JobsRevision ?? _revision);
        return state;
    }

    public Plan Plan() => new Planner(Options).PlanPass(Build(), Epoch, Now);

    private StoreItem Put(string key, byte[] value, long owner = 0, long version = 1, long createRevision = 0)
    {
        var revision = ++_revision;
        var item = new StoreItem(key, value, createRevision == 0 ? revision : createRevision, revision, version, owner);
        _items[key] = item;
        return item;
    }

    private static AssignmentInfo ToInfo(StoreItem item)
    {
        var record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
        var worker = StoreKeys.Name(StoreKeys.Parent(item.Key)!);
        return new AssignmentInfo(item.Key, worker, record.JobId, record.Attempt, record, item.Version, item.ModRevision, T0, T0, null);
    }

    /// <summary>Every operation of the plan, in order.</summary>
    public static IReadOnlyList<Operation> Operations(Plan plan)
    {
        var tx = new Transaction();
        foreach (var write in plan.Writes)
        {
            write.Apply(tx);
        }

        return tx.Operations;
    }

    public static JobRecord JobWritten(Plan plan, string jobId) =>
        ContractJson.Deserialize<JobRecord>(Operations(plan).Single(o => o.Key == StoreLayout.Job(jobId) && o.Kind == OperationKind.Update).Value.Span);

    public static IEnumerable<(string Key, AssignmentRecord Record)> AssignmentsCreated(Plan plan) =>
        Operations(plan).Where(o => o.Kind == OperationKind.Create && o.Key.StartsWith(StoreLayout.Assignments + "/", StringComparison.Ordinal))
            .Select(o => (o.Key, ContractJson.Deserialize<AssignmentRecord>(o.Value.Span)));

    public static string Json(Operation operation) => Encoding.UTF8.GetString(operation.Value.Span);
}
