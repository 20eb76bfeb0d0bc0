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
}

/// <summary>
/// One unit of the plan: operations that must commit together (e.g. a job's update and its assignment's
/// creation). The executor packs several into one fenced transaction, never splitting one.
/// </summary>
/// <param name="Kind">What it does.</param>
/// <param name="JobId">The job concerned, if any.</param>
/// <param name="Detail">Reason or target, for logs.</param>
/// <param name="Operations">Operation count.</param>
/// <param name="Bytes">Approximate payload size.</param>
/// <param name="Apply">Adds the operations to a transaction.</param>
internal sealed record PlannedWrite(WriteKind Kind, string? JobId, string Detail, int Operations, int Bytes, Action<Transaction> Apply)
{
    /// <summary>For <see cref="WriteKind.Remove"/>: the job's idempotency key, whose record the executor removes with it.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Conditions the write adds (counted against the transaction's limit like operations).</summary>
    public int Conditions { get; init; }
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

    /// <summary>Jobs waiting (Pending, including backoff).</summary>
    public int Pending { get; set; }

    /// <summary>Brings <see cref="NextDue"/> forward to <paramref name="due"/> when earlier.</summary>
    public void DueAt(DateTimeOffset due)
    {
        if (NextDue is null || due < NextDue)
        {
            NextDue = due;
        }
    }
}
