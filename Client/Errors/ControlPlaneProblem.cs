using System.Text.Json;

namespace ControlPlane.Client;

/// <summary>An <c>application/problem+json</c> document (RFC 9457) as a director sends it with every error answer.</summary>
/// <param name="Title">Short summary, the same for every occurrence of the problem, e.g. <c>Too many pending jobs.</c></param>
/// <param name="Detail">What happened this time and what to do, for people.</param>
/// <param name="Status">The HTTP status the director put in the document.</param>
/// <param name="Errors">For 400 answers: field → messages (empty otherwise).</param>
/// <param name="Extensions">Every other member (e.g. <c>setting</c>, <c>pending</c>, <c>limit</c> of a 429), as JSON.</param>
public sealed record ControlPlaneProblem(
    string? Title,
    string? Detail,
    int? Status,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Errors,
    IReadOnlyDictionary<string, JsonElement> Extensions)
{
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal) { "type", "title", "status", "detail", "instance", "errors" };

    /// <summary>Reads a problem document; null when the body is not one (empty, a proxy's HTML page, plain text).</summary>
    public static ControlPlaneProblem? TryParse(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var errors = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in e.EnumerateObject())
                {
                    errors[field.Name] = MessagesOf(field.Value);
                }
            }

            var extensions = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var member in root.EnumerateObject().Where(m => !Standard.Contains(m.Name)))
            {
                extensions[member.Name] = member.Value.Clone();
            }

            var title = StringOf(root, "title");
            var detail = StringOf(root, "detail");
            int? status = root.TryGetProperty("status", out var s) && s.TryGetInt32(out var n) ? n : null;
            // A JSON body without any problem member is some other document, not a problem.
            return title is null && detail is null && errors.Count == 0 ? null : new ControlPlaneProblem(title, detail, status, errors, extensions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An integer extension member (e.g. <c>pending</c>), or null when absent or not an integer.</summary>
    public int? IntegerExtension(string name) =>
        Extensions.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;

    /// <summary>A string extension member (e.g. <c>setting</c>), or null when absent or not a string.</summary>
    public string? StringExtension(string name) =>
        Extensions.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // ASP.NET Core sends an array of strings per field; a single string is accepted as well.
    private static List<string> MessagesOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => [.. value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString() ?? "" : m.GetRawText())],
        JsonValueKind.String => [value.GetString() ?? ""],
        _ => [value.GetRawText()],
    };
}
