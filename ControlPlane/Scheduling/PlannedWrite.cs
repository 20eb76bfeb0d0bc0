using ControlPlane.Coordination;

namespace ControlPlane.Director.Scheduling;

/// <summary>What a planned write does, for metrics and logs.</summary>
internal enum WriteKind
{
    /// <summary>A Pending job goes to a worker.</summary>
    Place,

    /// <summary>A reported attempt is folded into its job.</summary>
    Finish,

    /// <summary>An attempt is withdrawn (worker gone, restarted, silent, timed out).</summary>
    TakeBack,

    /// <summary>Cancellation is carried to the assignment, or applied to a job not yet started.</summary>
    Cancel,

    /// <summary>An assignment no job refers to is removed.</summary>
    Orphan,

    /// <summary>A suspect marker is set or cleared.</summary>
    Suspect,

    /// <summary>A finished job past its retention is removed.</summary>
    Remove,

    /// <summary>A schedule's due ticks are judged: its record advanced, its ticks' jobs created (and, for
    /// <c>replace</c>, its active runs cancelled) together.</summary>
    Fire,

    /// <summary>A Waiting job becomes Pending: its dependencies ended as it needs and its time has come.</summary>
    Release,

    /// <summary>A Waiting job ends Skipped: a dependency ended in a state its condition rules out.</summary>
    Skip,

    /// <summary>A workflow record is aborted (its submission did not complete in time) or removed (its jobs are gone).</summary>
    Workflow,

    /// <summary>A concurrency key's record is removed: no unfinished job carries the key any more.</summary>
    ForgetKey,
}

/// <summary>
/// One unit of the plan, as data: the conditions it assumes and the operations that must commit together (e.g. a
/// job's update and its assignment's creation). The executor packs several into one fenced transaction, never
/// splitting one; because a write is data, its size is measured, not estimated, and a test reads exactly what it
/// would commit.
/// </summary>
/// <param name="Kind">What it does.</param>
/// <param name="JobId">The job concerned, if any.</param>
/// <param name="Detail">Reason or target, for logs.</param>
/// <param name="Conditions">What must still hold in the store (versions read, absences relied on).</param>
/// <param name="Operations">The writes.</param>
internal sealed record PlannedWrite(WriteKind Kind, string? JobId, string Detail, IReadOnlyList<Condition> Conditions, IReadOnlyList<Operation> Operations)
{
    /// <summary>For <see cref="WriteKind.Remove"/>: the job's idempotency key, whose record the executor removes with it.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>For <see cref="WriteKind.Finish"/> of an attempt that succeeded or failed: the worker's advertised features
    /// and whether it failed, told to the <see cref="RolloutController"/> once the write commits.</summary>
    public AttemptOutcome? Outcome { get; init; }

    /// <summary>Bytes of keys and values, counted the way <see cref="Transaction"/> counts them.</summary>
    public int Bytes { get; } = Operations.Sum(o => o.Key.Length + o.Value.Length);

    /// <summary>Entries the write takes in a transaction: its operations and conditions, plus the idempotency
    /// record's delete the executor may add.</summary>
    public int Entries => Operations.Count + Conditions.Count + (IdempotencyKey is null ? 0 : 1);

    /// <summary>Adds the conditions and operations to <paramref name="transaction"/>.</summary>
    public void Apply(Transaction transaction)
    {
        foreach (var condition in Conditions)
        {
            switch (condition.Kind)
            {
                case ConditionKind.Absent:
                    transaction.RequireAbsent(condition.Key);
                    break;
                case ConditionKind.Exists:
                    transaction.RequireExists(condition.Key);
                    break;
                case ConditionKind.VersionEquals:
                    transaction.RequireVersion(condition.Key, condition.Value);
                    break;
                case ConditionKind.CreatedAt:
                    transaction.RequireCreatedAt(condition.Key, condition.Value);
                    break;
            }
        }

        foreach (var operation in Operations)
        {
            switch (operation.Kind)
            {
                case OperationKind.Create:
                    transaction.Create(operation.Key, operation.Value, operation.Ephemeral);
                    break;
                case OperationKind.Update:
                    transaction.Update(operation.Key, operation.Value, operation.ExpectedVersion);
                    break;
                case OperationKind.Delete:
                    transaction.Delete(operation.Key, operation.ExpectedVersion);
                    break;
            }
        }
    }
}

/// <summary>The outcome of planning one pass.</summary>
internal sealed class Plan
{
    /// <summary>Writes to make, in order.</summary>
    public List<PlannedWrite> Writes { get; } = [];

    /// <summary>When the next pass is due even if nothing changes (a backoff or a deadline expires).</summary>
    public DateTimeOffset? NextDue { get; set; }

    /// <summary>Pending jobs whose turn had come but no worker could take.</summary>
    public int Unplaceable { get; set; }

    /// <summary>Classes of queued jobs no worker could take in this pass, with their job counts, in the order they were
    /// set aside. Recorded at O(1) per class (the requirement is a shared reference), so explaining a pass adds nothing
    /// per job to it; <see cref="PlacementReport"/> turns them into reasons, at most once per publish interval.</summary>
    public List<(Requirement Requirement, int Jobs)> SetAside { get; } = [];

    /// <summary>Classes of queued jobs held back in this pass because their concurrency key was full: the key, the
    /// class's limit, the jobs of the key out (this pass's placements included) and the class's job count. O(1) per class,
    /// like <see cref="SetAside"/>; <see cref="PlacementReport"/> turns them into reasons.</summary>
    public List<(string Key, int Limit, int Out, int Jobs)> HeldKeys { get; } = [];

    /// <summary>Jobs waiting (Pending, including backoff).</summary>
    public int Pending { get; set; }

    /// <summary>Queue heads the placement loop judged: one per job placed and one per class set aside (no worker, or a
    /// full concurrency key), however many jobs the class holds. What placement cost the pass, counted.</summary>
    public int QueueChecks { get; set; }

    /// <summary>Items the pass evaluated (changed or due): its cost beyond placement.</summary>
    public int Evaluated { get; set; }

    /// <summary>Brings <see cref="NextDue"/> forward to <paramref name="due"/> when earlier.</summary>
    public void DueAt(DateTimeOffset due)
    {
        if (NextDue is null || due < NextDue)
        {
            NextDue = due;
        }
    }

    /// <summary>Adds a write.</summary>
    public void Add(PlannedWrite write) => Writes.Add(write);
}

/// <summary>The result of one attempt as a rollout counts it (docs/cells.md, "Progressive feature rollout").</summary>
/// <param name="Features">The worker's advertised features when the result was judged; null when it is not registered.</param>
/// <param name="Failed">True when the attempt failed (the job's own failure), false when it succeeded.</param>
internal sealed record AttemptOutcome(IReadOnlyList<string>? Features, bool Failed);
