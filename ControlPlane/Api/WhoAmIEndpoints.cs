using ControlPlane.Contracts.Directors;
using ControlPlane.Director.Auth;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/whoami</c>: the caller's role, as the token filter judged it.</summary>
internal static class WhoAmIEndpoints
{
    public static RouteGroupBuilder MapWhoAmIEndpoints(this RouteGroupBuilder v1)
    {
        // One cheap GET (no store read) rather than a probing write: a read-only client learns it may not write
        // without trying, and the dashboard hides its buttons from it.
        v1.MapGet("/whoami", (HttpContext context, TokenSet tokens) =>
            {
                var access = context.Items.TryGetValue(BearerTokenFilter.AccessKey, out var value) && value is Access known ? known : Access.None;
                return TypedResults.Ok(new WhoAmIView(access == Access.Full ? WhoAmIView.Full : WhoAmIView.ReadOnly, tokens.Enabled));
            })
            .WithTags("Cluster")
            .WithName("WhoAmI")
            .WithSummary("What the request's token may do: role full or read-only (no store read).")
            .Produces<WhoAmIView>();
        return v1;
    }
}
