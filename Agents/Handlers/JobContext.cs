using System.Text.Json;

namespace ControlPlane.Agents;

/// <summary>
/// One attempt as a handler sees it. <see cref="JobId"/>, <see cref="Attempt"/>, <see cref="Epoch"/> and
/// <see cref="WorkerId"/> form the fencing token: a later attempt of the same job always has a higher
/// (<see cref="Epoch"/>, <see cref="Attempt"/>) pair, so a side effect conditioned on it cannot be overwritten by a
/// stale attempt.
/// </summary>
public sealed class JobContext
{
    private readonly Action<string>? _progress;

    /// <summary>Creates a context (the agent does; tests of handlers may too).</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="attempt">Attempt number, from 1.</param>
    /// <param name="epoch">Epoch of the leader that assigned the attempt.</param>
    /// <param name="workerId">The worker running it.</param>
    /// <param name="args">The job's <c>args</c> payload, if any.</param>
    /// <param name="env">The job's environment (empty when the agent does not advertise <c>env</c>).</param>
    /// <param name="progress">Receives <see cref="ReportProgress"/> calls; null ignores them.</param>
    public JobContext(string jobId, int attempt, long epoch, string workerId, JsonElement? args,
        IReadOnlyDictionary<string, string>? env = null, Action<string>? progress = null)
    {
        JobId = jobId;
        Attempt = attempt;
        Epoch = epoch;
        WorkerId = workerId;
        Args = args;
        Env = env ?? new Dictionary<string, string>();
        _progress = progress;
    }

    /// <summary>The job id (32 lowercase hex digits).</summary>
    public string JobId { get; }

    /// <summary>Attempt number, from 1: the second half of the fencing token.</summary>
    public int Attempt { get; }

    /// <summary>Epoch of the leader that assigned the attempt: the first half of the fencing token.</summary>
    public long Epoch { get; }

    /// <summary>The worker running the attempt.</summary>
    public string WorkerId { get; }

    /// <summary>The job's <c>args</c> payload, or null when it has none.</summary>
    public JsonElement? Args { get; }

    /// <summary>The job's environment variables.</summary>
    public IReadOnlyDictionary<string, string> Env { get; }

    /// <summary>W3C <c>traceparent</c> of the attempt's run, when the job is traced (null otherwise). While the
    /// handler runs, <see cref="System.Diagnostics.Activity.Current"/> is the run's span when the agent traces, so
    /// spans the handler starts join the job's trace by themselves; this is for passing the context on by hand (a
    /// message header, a child process).</summary>
    public string? TraceParent { get; init; }

    /// <summary>Records free-form progress; the latest value is written with the attempt's next heartbeat.
    /// Cheap and thread-safe; never throws.</summary>
    public void ReportProgress(string progress) => _progress?.Invoke(progress);
}
