using Microsoft.AspNetCore.Http.Metadata;

namespace ControlPlane.Director.Api;

/// <summary>
/// Gives the endpoints that take no body (cancel, drain, the reads) the same strictness as those that do: a body with
/// fields is answered 400 naming each of them, instead of being ignored while the client believes, say, its
/// <c>{"reason": ...}</c> was recorded. Endpoints that declare a body (<c>Accepts&lt;T&gt;</c>) read it through
/// <see cref="SpecReader.ReadAsync{T}(HttpRequest, CancellationToken)"/>, which applies the rule itself. Runs after the token check, so nobody
/// unauthenticated gets a body read.
/// </summary>
internal sealed class UnexpectedBodyFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (http.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is null
            && await SpecReader.RefuseBodyAsync(http.Request, http.RequestAborted) is { } problem)
        {
            return problem;
        }

        return await next(context);
    }
}
