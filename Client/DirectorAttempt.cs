using System.Net;

namespace ControlPlane.Client;

/// <summary>
/// One director's part in one call: it answered (<see cref="StatusCode"/>), or did not (<see cref="Failure"/>), and
/// whether the call went on to another director (<see cref="Next"/>). Passed to
/// <see cref="ControlPlaneClientOptions.OnDirectorAttempt"/> as it happens, and listed by
/// <see cref="ControlPlaneUnreachableException.Attempts"/>.
/// </summary>
/// <param name="Call">The call, e.g. <c>POST /v1/jobs</c>.</param>
/// <param name="Director">The director's base URL.</param>
/// <param name="StatusCode">Its answer's status; null when it gave none.</param>
/// <param name="Failure">Why there was no answer (refused, broken, no answer within the attempt timeout); null when it answered.</param>
/// <param name="Next">The director the call goes to next; null when this attempt ends the walk over the directors (its
/// answer is the call's, or no other director may be tried).</param>
public sealed record DirectorAttempt(string Call, Uri Director, HttpStatusCode? StatusCode, string? Failure, Uri? Next)
{
    /// <summary>True when this director's answer is the call's answer.</summary>
    public bool Answered => StatusCode is not null && Next is null;
}
