using System.Diagnostics;

namespace ControlPlane.Director.Telemetry;

/// <summary>Counts and times every request by route template (never the raw path: ids would explode the series).</summary>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, DirectorMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Routing ran before this middleware, so the endpoint (and its template) is known; unmatched paths share one label.
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        // A group's empty pattern leaves a trailing slash ("/v1/jobs/"); the label reads like the URL clients call.
        route = route.Length > 1 ? route.TrimEnd('/') : route;
        var method = new KeyValuePair<string, object?>("method", context.Request.Method);
        var routeTag = new KeyValuePair<string, object?>("route", route);
        var started = Stopwatch.GetTimestamp();
        metrics.ActiveRequests.Add(1);
        try
        {
            await next(context);
        }
        finally
        {
            metrics.ActiveRequests.Add(-1);
            metrics.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, routeTag, method);
            metrics.Requests.Add(1, routeTag, method, new KeyValuePair<string, object?>("status", context.Response.StatusCode));
        }
    }
}
