using Microsoft.Extensions.Primitives;

namespace ControlPlane.Director.Auth;

/// <summary>
/// Guards the <c>/v1</c> endpoints with <c>Authorization: Bearer &lt;token&gt;</c>: 401 (with
/// <c>WWW-Authenticate</c>) for a missing or unknown token, 403 when a read-only token tries to write. Runs before
/// the handler reads any request body.
/// </summary>
internal sealed class BearerTokenFilter(TokenSet tokens) : IEndpointFilter
{
    private const string Realm = "Bearer realm=\"controlplane\"";

    /// <summary>Key of <see cref="HttpContext.Items"/> under which the filter leaves the caller's
    /// <see cref="Access"/> for the handler (read by <c>GET /v1/whoami</c>).</summary>
    public static readonly object AccessKey = new();

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!tokens.Enabled)
        {
            // An open API lets everyone do everything: /v1/whoami says so.
            http.Items[AccessKey] = Access.Full;
            return await next(context);
        }

        var token = BearerToken(http.Request.Headers.Authorization);
        if (token is null)
        {
            http.Response.Headers.WWWAuthenticate = Realm;
            return Unauthorized("Send Authorization: Bearer <token>.");
        }

        switch (tokens.Check(token))
        {
            case Access.None:
                http.Response.Headers.WWWAuthenticate = Realm + ", error=\"invalid_token\"";
                return Unauthorized("The token is not valid.");
            case Access.ReadOnly when !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method):
                return TypedResults.Problem("This token may only read.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.");
            case var access:
                http.Items[AccessKey] = access;
                return await next(context);
        }
    }

    private static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized.");

    private static string? BearerToken(StringValues header)
    {
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value["Bearer ".Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}
