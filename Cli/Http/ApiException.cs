using System.Net;

namespace ControlPlane.Cli.Http;

/// <summary>The API answered, but not with success: the command fails with <see cref="ExitCodes.RequestFailed"/>.</summary>
internal sealed class ApiException : Exception
{
    /// <summary>Creates the exception for an error answer.</summary>
    /// <param name="status">HTTP status of the answer.</param>
    /// <param name="message">Fallback text when there is no problem document.</param>
    /// <param name="problem">The problem document, when the body was one.</param>
    public ApiException(HttpStatusCode status, string message, ApiProblem? problem)
        : base(message)
    {
        Status = status;
        Problem = problem;
    }

    /// <summary>HTTP status of the answer.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem document, when the body was one.</summary>
    public ApiProblem? Problem { get; }
}
