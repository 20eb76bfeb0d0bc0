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

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!tokens.Enabled)
        {
            return await next(context);
        }

        var http = context.HttpContext;
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
            default:
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
