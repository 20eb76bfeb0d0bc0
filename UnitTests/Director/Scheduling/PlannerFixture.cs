using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>Builds scheduler snapshots by hand and reads back what a plan would write.</summary>
internal sealed class PlannerFixture
{
    private readonly Dictionary<string, WorkerInfo> _workers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobInfo> _jobs = new(StringComparer.Ordinal);
    private readonly List<AssignmentInfo> _assignments = [];
    private readonly Dictionary<string, DateTimeOffset> _missing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _suspects = new(StringComparer.Ordinal);
    private long _revision = 100;

    public static readonly DateTimeOffset T0 = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public SchedulerOptions Options { get; } = new();

    public DateTimeOffset Now { get; set; } = T0;

    public long Epoch { get; set; } = 42;

    public WorkerInfo Worker(
        string id, int slots = 4, string[]? executors = null, string[]? features = null, Dictionary<string, string>? labels = null,
        long session = 0, bool draining = false, bool drainRequested = false, bool suspect = false, double heartbeatSeconds = 5)
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
        };
        var info = new WorkerInfo(id, record, session == 0 ? 1000 + _workers.Count : session, drainRequested, suspect);
        _workers[id] = info;
        if (suspect)
        {
            _suspects.Add(id);
        }

        return info;
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
        var info = new JobInfo(StoreLayout.Job(id), record, 1, ++_revision, 200);
        _jobs[id] = info;
        return info;
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
        var seen = firstSeen ?? Now;
        var info = new AssignmentInfo(
            StoreLayout.Assignment(worker.Id, job.Record.Id, attempt), worker.Id, job.Record.Id, attempt, record, 3,
            seen, lastChanged ?? seen, state == AttemptState.Running ? seen : null);
        _assignments.Add(info);
        return (job, info);
    }

    /// <summary>Replaces a job's record, as if it had been written since (its version moves on).</summary>
    public JobInfo Replace(JobInfo job, JobRecord record)
    {
        var info = job with { Record = record, Version = job.Version + 1 };
        _jobs[record.Id] = info;
        return info;
    }

    /// <summary>Keeps the assignments <paramref name="keep"/> maps to themselves and puts <paramref name="extra"/> first
    /// (assignments are reconciled in order).</summary>
    public void ReplaceAssignments(Func<AssignmentInfo, AssignmentInfo?> keep, AssignmentInfo extra)
    {
        var kept = _assignments.Select(keep).OfType<AssignmentInfo>().Where(a => a.Key != extra.Key).ToList();
        _assignments.Clear();
        _assignments.Add(extra);
        _assignments.AddRange(kept);
    }

    public void RemoveWorker(string id) => _workers.Remove(id);

    public void MissingSince(string jobId, DateTimeOffset since) => _missing[jobId] = since;

    public Plan Plan() => new Planner(Options).PlanPass(new SchedulerSnapshot
    {
        Workers = _workers,
        Suspects = _suspects,
        Jobs = _jobs,
        Assignments = _assignments,
        MissingAssignmentSince = _missing,
        Epoch = Epoch,
        Now = Now,
    });

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
