using System.Text.Json;

namespace ControlPlane.Cli.Http;

/// <summary>An RFC 7807 problem document as the director sends it with every error.</summary>
/// <param name="Title">Short summary, the same for every occurrence of the problem type.</param>
/// <param name="Detail">What happened this time.</param>
/// <param name="Status">HTTP status the server put in the document.</param>
/// <param name="Errors">For 400: field → messages.</param>
internal sealed record ApiProblem(string? Title, string? Detail, int? Status, IReadOnlyDictionary<string, IReadOnlyList<string>> Errors)
{
    /// <summary>Reads a problem document; null when the body is not one (empty, HTML from a proxy, plain text).</summary>
    public static ApiProblem? TryParse(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var title = StringOf(root, "title");
            var detail = StringOf(root, "detail");
            int? status = root.TryGetProperty("status", out var s) && s.TryGetInt32(out var n) ? n : null;
            var errors = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in e.EnumerateObject())
                {
                    errors[field.Name] = MessagesOf(field.Value);
                }
            }

            // A JSON body with none of the problem members is some other document, not a problem.
            return title is null && detail is null && errors.Count == 0 ? null : new ApiProblem(title, detail, status, errors);
        }
        catch (JsonException)
        {
            return null;
        }
    }

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
