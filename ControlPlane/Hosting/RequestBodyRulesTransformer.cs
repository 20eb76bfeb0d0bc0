using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ControlPlane.Director.Hosting;

/// <summary>
/// Writes the API's rule for request bodies into the OpenAPI document, on every <c>/v1</c> operation: those that take a
/// body refuse unknown fields, those that take none refuse a body with fields (issue 20; <c>Api/UnknownFields.cs</c>).
/// </summary>
/// <remarks>The rule is stated in descriptions, not as <c>additionalProperties: false</c> on the schemas: the request
/// schemas are shared with responses (a job's <c>spec</c>), and responses may grow fields that old clients must ignore.</remarks>
internal sealed class RequestBodyRulesTransformer : IOpenApiOperationTransformer
{
    /// <summary>What an operation that takes a body says about unknown fields.</summary>
    internal const string StrictBody =
        "Unknown fields are refused: a field this director does not know, at any depth, is answered 400 naming every such field " +
        "(errors: path → message), and nothing is done. Keys of maps (such as env and constraints) and free-form values " +
        "(such as args) are data, not fields.";

    /// <summary>What an operation that takes no body says.</summary>
    internal const string NoBody = "Takes no body: a body with fields is answered 400 naming each of them, and nothing is done.";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) != true)
        {
            return Task.CompletedTask;
        }

        if (operation.RequestBody is IOpenApiDescribedElement body)
        {
            body.Description = Append(body.Description, StrictBody);
        }
        else if (!HttpMethods.IsGet(context.Description.HttpMethod ?? "GET"))
        {
            operation.Description = Append(operation.Description, NoBody);
        }

        if (operation.Responses?.TryGetValue("400", out var invalid) == true && invalid is IOpenApiDescribedElement response)
        {
            response.Description = Append(response.Description, "The request is invalid; errors names each field (unknown ones included) with what is wrong.");
        }

        return Task.CompletedTask;
    }

    private static string Append(string? existing, string text) => string.IsNullOrEmpty(existing) ? text : $"{existing} {text}";
}
