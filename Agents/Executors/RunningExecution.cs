using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Agents.Executors;

/// <summary>What an executor needs to run one attempt (fields the agent did not advertise are already left out).</summary>
internal sealed record ExecutionRequest(
    string JobId, int Attempt, long Epoch, string WorkerId, string Executor,
    IReadOnlyList<string>? Command, JsonElement? Args, IReadOnlyDictionary<string, string> Env, string? WorkingDirectory)
{
    /// <summary>Receives a handler's progress reports.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>W3C <c>traceparent</c> the job's own work continues (the agent's run span, or the assignment's
    /// context when the agent does not trace); null when the job was not traced.</summary>
    public string? TraceParent { get; init; }

    /// <summary><c>TRACEPARENT</c> for a job's process, unless the job's environment sets it itself (its own choice wins).</summary>
    public IEnumerable<KeyValuePair<string, string>> TraceVariables =>
        TraceParent is { } parent && !Env.ContainsKey(Tracing.TraceParentVariable)
            ? [new(Tracing.TraceParentVariable, parent)]
            : [];

    /// <summary>The fencing token as environment variables.</summary>
    public IEnumerable<KeyValuePair<string, string>> TokenVariables =>
    [
        new("CP_JOB_ID", JobId),
        new("CP_ATTEMPT", Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("CP_EPOCH", Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("CP_WORKER_ID", WorkerId),
    ];
}

/// <summary>How an execution ended: an exit code (null when there is none, e.g. a handler that threw), the output
/// tail and an error for people.</summary>
internal sealed record ExecutionOutcome(int? ExitCode, string Output, string? Error);

/// <summary>An executor could not start the attempt; the message says why and becomes the attempt's error.</summary>
internal sealed class ExecutorStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One running attempt inside an executor.</summary>
internal abstract class RunningExecution
{
    /// <summary>Completes once the work has ended (process reaped, handler returned or given up on). Never faults.</summary>
    public abstract Task<ExecutionOutcome> Completion { get; }

    /// <summary>The job's process id (= process group id) for shell jobs.</summary>
    public virtual int? ProcessId => null;

    /// <summary>Graceful stop: SIGTERM to the process group, then SIGKILL after the grace period; handlers are cancelled
    /// and given the same grace before they are abandoned. Idempotent.</summary>
    public abstract void RequestStop();

    /// <summary>Immediate stop (self-fencing): SIGKILL to the process group now; handlers are cancelled and abandoned
    /// at once. Idempotent; never throws; does not wait.</summary>
    public abstract void Kill();
}

/// <summary>Starts executions of one kind.</summary>
internal interface IExecutor
{
    /// <summary>Starts <paramref name="request"/>.</summary>
    /// <exception cref="ExecutorStartException">It cannot run here (disabled, not allowed, not found).</exception>
    Task<RunningExecution> StartAsync(ExecutionRequest request);
}
