using System.Net;

namespace ControlPlane.Client;

/// <summary>
/// A director answered a call with an error status. The subclasses name the cases a caller usually handles
/// (<see cref="ControlPlaneValidationException"/>, <see cref="ControlPlaneNotFoundException"/>,
/// <see cref="ControlPlaneConflictException"/>, <see cref="ControlPlaneTooManyPendingException"/>,
/// <see cref="ControlPlaneUnavailableException"/>, <see cref="ControlPlaneAuthorizationException"/>); this class itself
/// stands for the rest (413, 500, an unreadable answer). The message says which call failed, how, and what the
/// director advised.
/// </summary>
public class ControlPlaneException : Exception
{
    /// <summary>Creates the exception for an error answer.</summary>
    /// <param name="message">What went wrong, for people.</param>
    /// <param name="status">The answer's HTTP status, when there was an answer.</param>
    /// <param name="problem">The answer's problem document, when it had one.</param>
    /// <param name="director">The director that answered.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public ControlPlaneException(string message, HttpStatusCode? status = null, ControlPlaneProblem? problem = null, Uri? director = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = status;
        Problem = problem;
        Director = director;
    }

    /// <summary>The HTTP status of the answer; null when no director answered.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The problem document of the answer, when it had one (a proxy's error page has none).</summary>
    public ControlPlaneProblem? Problem { get; }

    /// <summary>The director that gave the answer (after failover, the last one tried).</summary>
    public Uri? Director { get; }
}

/// <summary>400: the request is invalid. <see cref="Errors"/> names each bad field (e.g. <c>command</c>,
/// <c>Idempotency-Key</c>, <c>cron</c>) with what is wrong with it. Nothing was changed; sending it again fails again.</summary>
public sealed class ControlPlaneValidationException(string message, ControlPlaneProblem? problem, Uri? director)
    : ControlPlaneException(message, HttpStatusCode.BadRequest, problem, director)
{
    /// <summary>Field → messages; empty when the director named no field (an unreadable body).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors { get; } =
        problem?.Errors ?? new Dictionary<string, IReadOnlyList<string>>();
}

/// <summary>404: no job, worker or schedule with that id exists (it never did, or it was deleted).</summary>
public sealed class ControlPlaneNotFoundException(string message, ControlPlaneProblem? problem, Uri? director)
    : ControlPlaneException(message, HttpStatusCode.NotFound, problem, director);

/// <summary>409: the request conflicts with the current state: an <c>Idempotency-Key</c> already used for a different
/// spec, or a cancellation of a job that has already finished.</summary>
public sealed class ControlPlaneConflictException(string message, ControlPlaneProblem? problem, Uri? director)
    : ControlPlaneException(message, HttpStatusCode.Conflict, problem, director);

/// <summary>401 or 403: the token is missing, unknown, or may only read.</summary>
public sealed class ControlPlaneAuthorizationException(string message, HttpStatusCode status, ControlPlaneProblem? problem, Uri? director)
    : ControlPlaneException(message, status, problem, director);
