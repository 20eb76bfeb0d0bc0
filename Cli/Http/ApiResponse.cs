using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;

namespace ControlPlane.Cli.Http;

/// <summary>A successful answer of the API, kept as raw bytes so <c>--output json</c> can print it verbatim.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Body">Response body; empty when the API sent none.</param>
/// <param name="Location">The <c>Location</c> header, if any.</param>
/// <param name="Revision">The <c>X-Revision</c> header, if any.</param>
internal sealed record ApiResponse(HttpStatusCode Status, byte[] Body, Uri? Location, long? Revision)
{
    /// <summary>The body as a contract record.</summary>
    /// <exception cref="ApiException">The body is not JSON of that shape (a proxy's HTML page, a newer API).</exception>
    public T Read<T>()
        where T : class
    {
        try
        {
            return ContractJson.Deserialize<T>(Body);
        }
        catch (JsonException e)
        {
            throw new ApiException(Status, $"The response is not a {typeof(T).Name}: {e.Message}", problem: null);
        }
    }

    /// <summary>The body as a JSON tree (unknown fields included), or null when the body is empty.</summary>
    public JsonNode? ReadNode()
    {
        if (Body.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(Body);
        }
        catch (JsonException e)
        {
            throw new ApiException(Status, $"The response is not JSON: {e.Message}", problem: null);
        }
    }
}
