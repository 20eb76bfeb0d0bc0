using System.Net;

namespace ControlPlane.Client;

/// <summary>
/// 429: a pending-job limit refuses new jobs for now. Nothing was created, so the same call may be made again after
/// <see cref="RetryAfter"/> (the client already did so itself, up to <see cref="ControlPlaneClientOptions.MaxRetryAttempts"/>
/// times, when the wait was at most <see cref="ControlPlaneClientOptions.MaxRetryAfter"/>). Slow down if it persists.
/// </summary>
public sealed class ControlPlaneTooManyPendingException(string message, ControlPlaneProblem? problem, Uri? director, TimeSpan? retryAfter)
    : ControlPlaneException(message, HttpStatusCode.TooManyRequests, problem, director)
{
    /// <summary>How long the director asked the caller to wait (<c>Retry-After</c>); null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The setting that refused the job, e.g. <c>Scheduler:MaxPending</c> or <c>Scheduler:MaxPendingPerGroup</c>.</summary>
    public string? Setting => Problem?.StringExtension("setting");

    /// <summary>The pending count that reached the limit (all jobs, or the group's).</summary>
    public int? Pending => Problem?.IntegerExtension("pending");

    /// <summary>The configured limit.</summary>
    public int? Limit => Problem?.IntegerExtension("limit");

    /// <summary>The FIFO group, when the per-group limit refused the job.</summary>
    public string? Group => Problem?.StringExtension("group");
}

/// <summary>
/// 502, 503 or 504 from every director tried: the store could not answer, no director leads (<c>GET /v1/leader</c>), or a
/// proxy in front of the directors failed. For a write without an <c>Idempotency-Key</c> the outcome may be unknown
/// (the detail says so): read before sending it again.
/// </summary>
public sealed class ControlPlaneUnavailableException(string message, HttpStatusCode status, ControlPlaneProblem? problem, Uri? director, TimeSpan? retryAfter)
    : ControlPlaneException(message, status, problem, director)
{
    /// <summary>How long the director asked the caller to wait (<c>Retry-After</c>); null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// No director answered (refused, reset, DNS, no answer within <see cref="ControlPlaneClientOptions.AttemptTimeout"/>), or
/// the one that may have received a call that must not be sent twice did not answer.
/// </summary>
public sealed class ControlPlaneUnreachableException : ControlPlaneException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was tried and what happened, for people.</param>
    /// <param name="mayHaveReachedDirector">See <see cref="MayHaveReachedDirector"/>.</param>
    /// <param name="director">The last director tried.</param>
    /// <param name="inner">The last transport failure.</param>
    /// <param name="attempts">Each director tried, in order, and what happened; null for none recorded.</param>
    /// <param name="stoppedUnrepeatable">See <see cref="StoppedUnrepeatable"/>.</param>
    public ControlPlaneUnreachableException(
        string message, bool mayHaveReachedDirector, Uri? director, Exception? inner, IReadOnlyList<DirectorAttempt>? attempts = null, bool stoppedUnrepeatable = false)
        : base(message, null, null, director, inner)
    {
        MayHaveReachedDirector = mayHaveReachedDirector;
        Attempts = attempts ?? [];
        StoppedUnrepeatable = stoppedUnrepeatable;
    }

    /// <summary>True when the call is one that must not be sent twice (an unkeyed submission, a trigger) and it stopped
    /// at the director that may have received it, without trying the others: look before sending it again.</summary>
    public bool StoppedUnrepeatable { get; }

    /// <summary>Each director tried during the last walk over them, in order, with why it gave no answer (or the status
    /// it answered, for one passed over with 502/503/504): for callers that word the failure themselves.</summary>
    public IReadOnlyList<DirectorAttempt> Attempts { get; }

    /// <summary>
    /// False when the call provably reached no director (every connection was refused or could not be made): it had no
    /// effect and may be sent again. True when a director may have received it: a write without an
    /// <c>Idempotency-Key</c> may have happened; look before sending it again.
    /// </summary>
    public bool MayHaveReachedDirector { get; }
}

/// <summary><see cref="ControlPlaneClient.WatchJobAsync"/> or <see cref="ControlPlaneClient.WaitForJobAsync"/> gave up:
/// the job did not finish within the timeout. The job goes on; <see cref="LastSeen"/> is how it was last read.</summary>
public sealed class ControlPlaneWaitTimeoutException(string message, Contracts.Jobs.JobView? lastSeen, Exception? inner = null)
    : TimeoutException(message, inner)
{
    /// <summary>The job as last read before the timeout, or null when it was never read.</summary>
    public Contracts.Jobs.JobView? LastSeen { get; } = lastSeen;
}
