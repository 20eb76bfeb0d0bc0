using Microsoft.AspNetCore.Http.HttpResults;

namespace ControlPlane.Director.Api;

/// <summary>The API's error answers, all <c>application/problem+json</c> (RFC 9457).</summary>
internal static class Problems
{
    /// <summary>400 naming one field, shaped like ASP.NET Core's validation problems (<c>errors</c>: field → messages).</summary>
    public static ValidationProblem Field(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.");

    /// <summary>400 naming every field in <paramref name="errors"/>, with an optional <paramref name="detail"/> for people.</summary>
    public static ValidationProblem Fields(IEnumerable<(string Field, string Message)> errors, string? detail = null) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            detail: detail,
            title: "The request is invalid.");

    /// <summary>404.</summary>
    public static ProblemHttpResult NotFound(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    /// <summary>409.</summary>
    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.");

    /// <summary>413.</summary>
    public static ProblemHttpResult TooLarge(int maxBytes = Contracts.Limits.MaxBodyBytes) => TypedResults.Problem(
        $"The request body is larger than {maxBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large.");

    /// <summary>429 with <c>Retry-After</c>: a pending-job limit refuses new jobs for now. The detail names the limit,
    /// the count and what to do; the extensions carry the same for programs (<c>setting</c>, <c>pending</c>,
    /// <c>limit</c>, <c>group</c>, <c>retryAfterSeconds</c>).</summary>
    public static ProblemHttpResult TooManyPending(HttpContext context, AdmissionRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(refusal);
        var seconds = refusal.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers.RetryAfter = seconds;
        var what = refusal.Group is null
            ? $"{refusal.Pending} jobs are pending and {refusal.Setting} is {refusal.Limit}"
            : $"{refusal.Pending} jobs of group '{refusal.Group}' are pending and {refusal.Setting} is {refusal.Limit}";
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["setting"] = refusal.Setting,
            ["pending"] = refusal.Pending,
            ["limit"] = refusal.Limit,
            ["retryAfterSeconds"] = refusal.RetryAfterSeconds,
        };
        if (refusal.Group is not null)
        {
            extensions["group"] = refusal.Group;
        }

        return TypedResults.Problem(
            $"{what}: no new job is accepted until the queue drains below the limit. Nothing was created. Retry after {seconds} s (send an Idempotency-Key so a retry can never create the job twice), and slow down if refusals persist.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many pending jobs.",
            extensions: extensions);
    }

    /// <summary>503 with <c>Retry-After</c>: the store could not answer (yet).</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string detail, string title = "The store is unavailable.")
    {
        ArgumentNullException.ThrowIfNull(context);
        // Clients retry soon: a store that is reconnecting or electing usually answers again within seconds.
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: title);
    }
}
