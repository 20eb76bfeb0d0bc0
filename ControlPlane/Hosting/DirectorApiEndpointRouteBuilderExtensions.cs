using ControlPlane.Director.Api;
using ControlPlane.Director.Auth;
using ControlPlane.Director.Dashboard;
using ControlPlane.Director.Events;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.Director.Hosting;

/// <summary>Maps the director's endpoints and the middleware they rely on.</summary>
public static class DirectorApiEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Adds request metrics, problem+json for every error, the open operational endpoints (<c>/healthz</c>,
    /// <c>/readyz</c>, <c>/metrics</c>, <c>/openapi/v1.json</c>), the dashboard's static files under <c>/ui</c> and
    /// the token-guarded <c>/v1</c> API.
    /// Requires <see cref="DirectorApiServiceCollectionExtensions.AddDirectorApi"/>.
    /// </summary>
    public static WebApplication MapDirectorApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestMetricsMiddleware>();
        app.UseExceptionHandler();
        // Unmatched routes and wrong methods answer problem+json too.
        app.UseStatusCodePages();

        // The dashboard's files are public (they hold no data); everything they show comes from /v1 with a token.
        app.MapDashboard();
        app.MapHealthEndpoints();
        app.MapOpenApi();
        app.MapGroup("/v1")
            .AddEndpointFilter<BearerTokenFilter>()
            // After the token check: a body sent where none is taken is refused, not ignored (issue 20).
            .AddEndpointFilter<UnexpectedBodyFilter>()
            .MapJobEndpoints()
            .MapWorkflowEndpoints()
            .MapScheduleEndpoints()
            .MapWorkerEndpoints()
            .MapClusterEndpoints()
            .MapShadowEndpoints()
            .MapRolloutEndpoints()
            .MapWhoAmIEndpoints()
            .MapEventEndpoints();
        return app;
    }
}
