namespace ControlPlane.Agents;

/// <summary>
/// Sees every attempt event of the agents in this process, in the order each agent produced them. Register
/// implementations as singletons in DI (<c>services.AddSingleton&lt;IExecutionObserver, MyObserver&gt;()</c>); the
/// agent calls them synchronously on its own threads, so keep them fast. Exceptions they throw are logged and
/// otherwise ignored.
/// </summary>
public interface IExecutionObserver
{
    /// <summary>Called once per event.</summary>
    void OnExecutionEvent(ExecutionEvent executionEvent);
}

/// <summary>What happened to an attempt.</summary>
public enum ExecutionEventKind
{
    /// <summary>The agent wrote <c>Running</c> and started the executor.</summary>
    Start,

    /// <summary>The executor has ended (the process exited and was reaped, or the handler returned or was abandoned).</summary>
    End,

    /// <summary>A report was refused because the assignment no longer exists (the attempt was taken back).</summary>
    Rejected,

    /// <summary>The agent killed the attempt because its session could expire soon (self-fencing).</summary>
    Fenced,
}

/// <summary>One attempt event, as observers see it and as the execution log writes it (one JSON line each).</summary>
/// <param name="Kind">What happened.</param>
/// <param name="JobId">The job.</param>
/// <param name="Attempt">The attempt number.</param>
/// <param name="Epoch">The assigning leader's epoch.</param>
/// <param name="WorkerId">The worker.</param>
/// <param name="ProcessId">The agent's operating-system process id.</param>
/// <param name="Time">When, on the agent's clock (UTC).</param>
/// <param name="State">For <see cref="ExecutionEventKind.End"/>: the attempt's outcome (<c>Succeeded</c>, <c>Failed</c>,
/// <c>Cancelled</c> or <c>Lost</c>); for <see cref="ExecutionEventKind.Rejected"/>: the refused report's state.</param>
/// <param name="JobProcessId">For shell jobs: the job's process id (also its process group id).</param>
public sealed record ExecutionEvent(
    ExecutionEventKind Kind, string JobId, int Attempt, long Epoch, string WorkerId, int ProcessId, DateTimeOffset Time,
    string? State = null, int? JobProcessId = null);
