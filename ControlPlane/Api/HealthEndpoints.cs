using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>Unauthenticated operational endpoints: liveness, readiness and Prometheus metrics.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers and its own loops make progress (DirectorHealth). An unreachable store is not a
        // failure here: restarting a director cannot fix it (/readyz says so).
        app.MapGet("/healthz", Healthy).WithTags("Operations").ExcludeFromDescription();
        app.MapGet("/readyz", Ready).WithTags("Operations").ExcludeFromDescription();
        // The OpenTelemetry SDK's Prometheus exporter: the text format (or OpenMetrics when the scraper asks for it).
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Operations").ExcludeFromDescription();
        return app;
    }

    private static IResult Healthy(Hosting.DirectorHealth health)
    {
        var stalled = health.Check();
        return stalled.Count == 0
            ? TypedResults.Ok(new { status = "ok" })
            : TypedResults.Json(
                new { status = "stalled", stalled = stalled.Select(s => new { loop = s.Loop, detail = s.Detail }) },
                statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static IResult Ready(StoreConnection connection)
    {
        var state = connection.Current?.Session.State;
        // Ready means requests can be served now: connected, with a session that is in contact with the store.
        return state == SessionState.Connected
            ? TypedResults.Ok(new { status = "ready", session = state.ToString() })
            : TypedResults.Problem($"The store session is {state?.ToString() ?? "not connected yet"}.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready.");
    }
}
