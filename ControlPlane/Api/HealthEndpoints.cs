using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>Unauthenticated operational endpoints: liveness, readiness and Prometheus metrics.</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Liveness says only that the process answers: restarting a director cannot fix an unreachable store.
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithTags("Operations").ExcludeFromDescription();
        app.MapGet("/readyz", Ready).WithTags("Operations").ExcludeFromDescription();
        // The OpenTelemetry SDK's Prometheus exporter: the text format (or OpenMetrics when the scraper asks for it).
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Operations").ExcludeFromDescription();
        return app;
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
