using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Telemetry;
using Microsoft.AspNetCore.Diagnostics;

namespace ControlPlane.Director.Api;

/// <summary>
/// Turns every exception that escapes an endpoint into problem+json, never a stack trace: store trouble is 503
/// with <c>Retry-After</c> (the request may succeed on retry), a malformed request is its own 4xx, anything else
/// is a 500 whose details stay in the log.
/// </summary>
internal sealed class ProblemExceptionHandler(DirectorMetrics metrics, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody reads an answer.
            return true;
        }

        var request = httpContext.Request;
        IResult result;
        switch (exception)
        {
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                result = Problems.TooLarge();
                break;
            case BadHttpRequestException bad:
                result = TypedResults.Problem("The request could not be read.", statusCode: bad.StatusCode, title: "Bad request.");
                break;
            case StoreOutcomeUnknownException:
                metrics.StoreErrors.Add(1, new KeyValuePair<string, object?>("kind", "unknown_outcome"));
                Log.StoreUnavailable(logger, request.Method, request.Path, exception.Message);
                result = Problems.Unavailable(httpContext, "The store did not confirm the write, which may or may not have been applied. Read before retrying.", "The outcome is unknown.");
                break;
            case StoreRolledBackException:
                metrics.StoreErrors.Add(1, new KeyValuePair<string, object?>("kind", "rolled_back"));
                Log.StoreUnavailable(logger, request.Method, request.Path, exception.Message);
                result = Problems.Unavailable(httpContext, exception.Message, "The store went back in time.");
                break;
            case StoreException:
                metrics.StoreErrors.Add(1, new KeyValuePair<string, object?>("kind", exception is StoreUnavailableException ? "unavailable" : "error"));
                Log.StoreUnavailable(logger, request.Method, request.Path, exception.Message);
                result = Problems.Unavailable(httpContext, "The store could not answer in time. Retry shortly.");
                break;
            default:
                Log.Unhandled(logger, exception, request.Method, request.Path);
                result = TypedResults.Problem("An unexpected error occurred; it has been logged.", statusCode: StatusCodes.Status500InternalServerError, title: "Internal error.");
                break;
        }

        await result.ExecuteAsync(httpContext);
        return true;
    }
}
