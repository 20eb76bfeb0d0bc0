using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ControlPlane.Cli.Rendering;

/// <summary>
/// <c>--output json</c>: the API's JSON re-indented, fields the CLI does not know included, so scripts see
/// exactly what the server sent (pipe it to <c>jq</c>).
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Output and commands are shell text: keep '<', '&' and non-ASCII readable instead of \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="node"/> indented; an empty body writes nothing.</summary>
    public static void Write(TextWriter writer, JsonNode? node)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (node is not null)
        {
            writer.WriteLine(node.ToJsonString(Indented));
        }
    }

    /// <summary>Writes a body as the director sent it (<see cref="Client.ControlPlaneResponse{T}.Content"/>) indented;
    /// an empty body writes nothing.</summary>
    public static void Write(TextWriter writer, ReadOnlyMemory<byte> body) => Write(writer, Node(body));

    /// <summary>A body as a JSON tree (unknown fields included), or null when it is empty.</summary>
    /// <exception cref="Client.ControlPlaneException">The body is not JSON (a proxy's page).</exception>
    public static JsonNode? Node(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(body.Span);
        }
        catch (JsonException e)
        {
            throw new Client.ControlPlaneException($"The response is not JSON: {e.Message}");
        }
    }
}
