using System.Globalization;
using System.Net;

namespace ControlPlane.Client.Internal;

/// <summary>Turns an error answer into the exception that names its case, with a message that says which call failed,
/// how, and what the director advised (its problem detail and, for 400, every field).</summary>
internal static class ErrorMapper
{
    public static ControlPlaneException ToException(string call, HttpResponseMessage response, byte[] body, Uri? director)
    {
        var status = response.StatusCode;
        var problem = ControlPlaneProblem.TryParse(body);
        var retryAfter = RetryRules.RetryAfterOf(response);
        var message = Describe(call, status, response.ReasonPhrase, problem, director, retryAfter);
        return status switch
        {
            HttpStatusCode.BadRequest => new ControlPlaneValidationException(message, problem, director),
            HttpStatusCode.NotFound => new ControlPlaneNotFoundException(message, problem, director),
            HttpStatusCode.Conflict => new ControlPlaneConflictException(message, problem, director),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ControlPlaneAuthorizationException(message, status, problem, director),
            HttpStatusCode.TooManyRequests => new ControlPlaneTooManyPendingException(message, problem, director, retryAfter),
            HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout =>
                new ControlPlaneUnavailableException(message, status, problem, director, retryAfter),
            _ => new ControlPlaneException(message, status, problem, director),
        };
    }

    /// <summary>E.g. <c>POST /v1/jobs: 400 The request is invalid. (director http://127.0.0.1:5080/): command: Required for the shell executor.</c></summary>
    private static string Describe(string call, HttpStatusCode status, string? reason, ControlPlaneProblem? problem, Uri? director, TimeSpan? retryAfter)
    {
        var text = new System.Text.StringBuilder();
        text.Append(call).Append(": ").Append((int)status).Append(' ').Append(problem?.Title ?? reason ?? status.ToString());
        if (director is not null)
        {
            text.Append(" (director ").Append(director.GetLeftPart(UriPartial.Authority)).Append(')');
        }

        if (problem?.Detail is { Length: > 0 } detail)
        {
            text.Append(": ").Append(detail);
        }

        if (problem is { Errors.Count: > 0 })
        {
            text.Append(problem.Detail is { Length: > 0 } ? " " : ": ");
            text.AppendJoin("; ", problem.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
        }

        if (problem is null)
        {
            text.Append(": the answer carried no problem document (a proxy's error page?)");
        }

        if (retryAfter is { } after)
        {
            text.Append(CultureInfo.InvariantCulture, $" Retry-After: {after.TotalSeconds:0.#} s.");
        }

        return text.ToString();
    }
}
