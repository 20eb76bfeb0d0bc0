using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Scheduling;

/// <summary>One job's placement on a worker as the pass decided it: the job's next record and its assignment,
/// serialized once (their size decides how many placements of a concurrency key share a write).</summary>
/// <param name="Job">The job as the pass saw it (its version is the write's condition).</param>
/// <param name="AssignmentKey">The assignment's store key.</param>
/// <param name="WorkerId">The worker.</param>
/// <param name="Next">The job's record once Assigned.</param>
/// <param name="Assignment">The assignment record.</param>
internal sealed record Placement(JobInfo Job, string AssignmentKey, string WorkerId, JobRecord Next, AssignmentRecord Assignment)
{
    private readonly byte[] _job = ContractJson.Serialize(Next);
    private readonly byte[] _assignment = ContractJson.Serialize(Assignment);

    /// <summary>Bytes of its keys and values, counted as <see cref="Transaction"/> counts them.</summary>
    public int Bytes => Job.Key.Length + _job.Length + AssignmentKey.Length + _assignment.Length;

    /// <summary>The job's update (conditioned on the version the pass saw) and the assignment's creation.</summary>
    public Operation[] Operations() =>
    [
        new Operation(OperationKind.Update, Job.Key, _job, Job.Version),
        new Operation(OperationKind.Create, AssignmentKey, _assignment),
    ];
}

/// <summary>
/// Every write the leader plans, as data: which records change and which conditions must still hold. Each write is
/// conditioned on exactly what its pass assumed (versions read, absences relied on), so a stale view costs a refused
/// transaction and a replan, never a second running attempt (docs/protocol.md).
/// </summary>
internal static class Writes
{
    /// <summary>Pending → Assigned, and the assignment created, together.</summary>
    public static PlannedWrite Place(Placement placement) =>
        new(WriteKind.Place, placement.Job.Record.Id, placement.WorkerId, [], placement.Operations());

    /// <summary>
    /// The placements of one concurrency key in a pass and its record's update, in one write: the record is updated
    /// conditioned on the version the pass saw (<paramref name="held"/>), or created when the pass saw none, so the write
    /// is refused if any placement of the key landed since (docs/jobs.md, "Concurrency limits per key").
    /// </summary>
    public static PlannedWrite PlaceKeyed(string key, string recordKey, KeyRecordInfo? held, ConcurrencyRecord record, IReadOnlyList<Placement> placements)
    {
        var operations = new List<Operation>((2 * placements.Count) + 1);
        foreach (var placement in placements)
        {
            operations.AddRange(placement.Operations());
        }

        var value = ContractJson.Serialize(record);
        operations.Add(held is null
            ? new Operation(OperationKind.Create, recordKey, value)
            : new Operation(OperationKind.Update, recordKey, value, held.Version));
        var detail = $"concurrency key {key}: {placements.Count} placed on {string.Join(", ", placements.Select(p => p.WorkerId).Distinct(StringComparer.Ordinal))}";
        return new(WriteKind.Place, placements[0].Job.Record.Id, detail, [], operations);
    }

    /// <summary>Removes a concurrency key's record that no unfinished job needs, conditioned on its version.</summary>
    public static PlannedWrite ForgetKey(KeyRecordInfo record) =>
        new(WriteKind.ForgetKey, null, $"{record.Key}: no unfinished job has its key", [],
            [new Operation(OperationKind.Delete, record.Key, ReadOnlyMemory<byte>.Empty, record.Version)]);

    /// <summary>The job's next record and its assignment's deletion, together (finish, take back, cancel before start).</summary>
    public static PlannedWrite JobAndAssignment(WriteKind kind, JobInfo job, JobRecord next, AssignmentInfo assignment, string detail) =>
        new(kind, job.Record.Id, detail, [],
        [
            new Operation(OperationKind.Update, job.Key, ContractJson.Serialize(next), job.Version),
            new Operation(OperationKind.Delete, assignment.Key, ReadOnlyMemory<byte>.Empty, assignment.Version),
        ]);

    /// <summary>
    /// A take-back after the worker's beat fence (feature <c>beatFence</c>): the job's next record and the assignment's
    /// deletion, conditioned also on the worker's registration being exactly the write the leader last saw (its creation
    /// revision and version). A beat that landed since refuses it, so the attempts of an agent whose beats the store
    /// still acknowledges are never taken back; one that has not beaten for the lease has fenced itself (docs/protocol.md,
    /// "Agent: beat fence").
    /// </summary>
    public static PlannedWrite TakeBackFenced(JobInfo job, JobRecord next, AssignmentInfo assignment, WorkerInfo worker, string detail) =>
        JobAndAssignment(WriteKind.TakeBack, job, next, assignment, detail) with
        {
            Conditions =
            [
                new Condition(ConditionKind.CreatedAt, StoreLayout.Worker(worker.Id), worker.CreateRevision),
                new Condition(ConditionKind.VersionEquals, StoreLayout.Worker(worker.Id), worker.Version),
            ],
        };

    /// <summary>The job's next record alone; when <paramref name="requireAbsent"/> is given, only while that key
    /// (the assignment the pass found missing) really is absent.</summary>
    public static PlannedWrite Job(WriteKind kind, JobInfo job, JobRecord next, string detail, string? requireAbsent) =>
        new(kind, job.Record.Id, detail,
            requireAbsent is null ? [] : [new Condition(ConditionKind.Absent, requireAbsent)],
            [new Operation(OperationKind.Update, job.Key, ContractJson.Serialize(next), job.Version)]);

    /// <summary>An assignment's new record (the leader only ever sets <c>cancelRequested</c>).</summary>
    public static PlannedWrite Assignment(WriteKind kind, string jobId, AssignmentInfo assignment, AssignmentRecord next, string detail) =>
        new(kind, jobId, detail, [], [new Operation(OperationKind.Update, assignment.Key, ContractJson.Serialize(next), assignment.Version)]);

    /// <summary>
    /// Withdraws an assignment its job no longer points at, conditioned on the job as the pass saw it (or on its
    /// absence): a jobs view lagging behind must not withdraw an attempt the job record, newer in the store, names.
    /// </summary>
    public static PlannedWrite Withdraw(AssignmentInfo assignment, JobInfo? job)
    {
        Condition? condition = job is not null ? new Condition(ConditionKind.VersionEquals, job.Key, job.Version)
            : JobIds.IsValid(assignment.JobId) ? new Condition(ConditionKind.Absent, StoreLayout.Job(assignment.JobId))
            : null;
        return new(WriteKind.Orphan, assignment.JobId, assignment.Key, condition is null ? [] : [condition],
            [new Operation(OperationKind.Delete, assignment.Key, ReadOnlyMemory<byte>.Empty, assignment.Version)]);
    }

    /// <summary>Marks a worker suspect: it gets no new work until its attempts report again.</summary>
    public static PlannedWrite MarkSuspect(string workerId, SuspectRecord record, string detail) =>
        new(WriteKind.Suspect, null, detail, [], [new Operation(OperationKind.Create, StoreLayout.Suspect(workerId), ContractJson.Serialize(record))]);

    /// <summary>Clears a worker's suspect marker.</summary>
    public static PlannedWrite ClearSuspect(string workerId, string detail) =>
        new(WriteKind.Suspect, null, detail, [], [new Operation(OperationKind.Delete, StoreLayout.Suspect(workerId), ReadOnlyMemory<byte>.Empty)]);

    /// <summary>
    /// A schedule's judged ticks: its next record (conditioned on the version judged, so a changed, paused or
    /// deleted schedule refuses the write), the jobs its fired ticks create (a create fails if the job exists) and
    /// the runs <c>replace</c> cancels (each conditioned on its version), all in one fenced transaction.
    /// </summary>
    public static PlannedWrite Fire(ScheduleInfo schedule, ScheduleFiring firing)
    {
        var operations = new List<Operation>(1 + firing.Created.Count + firing.Cancelled.Count)
        {
            new(OperationKind.Update, schedule.Key, ContractJson.Serialize(firing.Next), schedule.Version),
        };
        operations.AddRange(firing.Created.Select(j => new Operation(OperationKind.Create, StoreLayout.Job(j.Id), ContractJson.Serialize(j))));
        operations.AddRange(firing.Cancelled.Select(c => new Operation(OperationKind.Update, c.Job.Key, ContractJson.Serialize(c.Next), c.Job.Version)));
        var detail = $"schedule {schedule.Record.Id}: {firing.Created.Count} fired, last tick {firing.Next.LastTick:O}";
        return new(WriteKind.Fire, null, detail, [], operations);
    }

    /// <summary>Removes a finished job past retention (the executor adds its idempotency record's removal).</summary>
    public static PlannedWrite Remove(JobInfo job) =>
        new(WriteKind.Remove, job.Record.Id, "retention passed", [], [new Operation(OperationKind.Delete, job.Key, ReadOnlyMemory<byte>.Empty, job.Version)])
        {
            IdempotencyKey = job.Record.IdempotencyKey,
        };

    /// <summary>A workflow record's next state (the leader only aborts one whose staging ran out).</summary>
    public static PlannedWrite Workflow(WorkflowInfo workflow, Contracts.Workflows.WorkflowRecord next, string detail) =>
        new(WriteKind.Workflow, null, detail, [], [new Operation(OperationKind.Update, workflow.Key, ContractJson.Serialize(next), workflow.Version)]);

    /// <summary>Removes a workflow record whose jobs are all gone.</summary>
    public static PlannedWrite RemoveWorkflow(WorkflowInfo workflow) =>
        new(WriteKind.Workflow, null, $"workflow {workflow.Record.Id}: its jobs are gone",
            [], [new Operation(OperationKind.Delete, workflow.Key, ReadOnlyMemory<byte>.Empty, workflow.Version)]);
}
