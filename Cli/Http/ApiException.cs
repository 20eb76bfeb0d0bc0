using System.Net;

namespace ControlPlane.Cli.Http;

/// <summary>The API answered, but not with success: the command fails with <see cref="ExitCodes.RequestFailed"/>.</summary>
internal sealed class ApiException : Exception
{
    /// <summary>Creates the exception for an error answer.</summary>
    /// <param name="status">HTTP status of the answer.</param>
    /// <param name="message">Fallback text when there is no problem document.</param>
    /// <param name="problem">The problem document, when the body was one.</param>
    /// <param name="retryAfter">The answer's <c>Retry-After</c>, when it had one (429, 503).</param>
    public ApiException(HttpStatusCode status, string message, ApiProblem? problem, TimeSpan? retryAfter = null)
        : base(message)
    {
        Status = status;
        Problem = problem;
        RetryAfter = retryAfter;
    }

    /// <summary>HTTP status of the answer.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem document, when the body was one.</summary>
    public ApiProblem? Problem { get; }

    /// <summary>How long the director asked the client to wait before trying again (<c>Retry-After</c>), if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
