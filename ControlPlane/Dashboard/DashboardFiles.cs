using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace ControlPlane.Director.Dashboard;

/// <summary>
/// Serves the dashboard (docs/dashboard.md): plain ES modules and CSS under <c>ControlPlane/Dashboard/ui/</c>,
/// embedded in the director's assembly, so every director carries the dashboard of its own version and nothing is
/// built or installed besides the director. The files hold no data and need no token; what they show comes from
/// <c>/v1</c>, with the token the page asks for.
/// </summary>
internal static class DashboardFiles
{
    /// <summary>Where the dashboard is served.</summary>
    public const string Path = "/ui";

    // Only 'self': no inline script, no other origin; data is fetched from this director only.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static WebApplication MapDashboard(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(DashboardFiles).Assembly, "ControlPlane.Director.Dashboard.ui");
        // "/ui" → "/ui/": relative module imports then resolve under /ui/.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.Equals(Path, StringComparison.Ordinal) && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
            {
                context.Response.Redirect(Path + "/");
                return;
            }

            await next(context);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path, DefaultFileNames = ["index.html"] });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                // Revalidated on every load (ETag): a director upgraded in place serves its new dashboard at once.
                headers.CacheControl = "no-cache";
                headers[HeaderNames.XContentTypeOptions] = "nosniff";
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers["Referrer-Policy"] = "no-referrer";
            },
        });
        return app;
    }
}
