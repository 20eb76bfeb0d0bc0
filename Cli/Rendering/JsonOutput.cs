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
}
