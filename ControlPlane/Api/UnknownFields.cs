using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ControlPlane.Contracts;

namespace ControlPlane.Director.Api;

/// <summary>
/// The API's strictness about request bodies (issue 20): a field the director does not know, at any depth, is a
/// client error, never silently dropped — a typo such as <c>maxAttemps</c>, or a field of a newer API, would
/// otherwise run the job with a default the client did not ask for. Store records and responses stay tolerant
/// (<see cref="ContractJson"/>): only what a client sends is checked.
/// </summary>
/// <remarks>
/// System.Text.Json's <see cref="JsonUnmappedMemberHandling.Disallow"/> alone stops at the first unknown field; the
/// client should learn every one in one answer, so <see cref="Find{T}"/> walks the whole document against the same
/// contract the serializer uses. Keys of maps (<c>env</c>, <c>constraints</c>) and free-form values
/// (<see cref="JsonElement"/>, such as <c>args</c>) are user data, not fields, and are never checked. A type opts
/// out with <c>[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]</c> or an extension-data member.
/// </remarks>
internal static class UnknownFields
{
    /// <summary>The contract dialect with unknown members disallowed: what request bodies are read with.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Every object member of <paramref name="root"/> that <typeparamref name="T"/>'s contract (in
    /// <see cref="Options"/>) does not know, in document order.</summary>
    public static IReadOnlyList<UnknownField> Find<T>(JsonElement root)
    {
        var found = new List<UnknownField>();
        Walk(root, Options.GetTypeInfo(typeof(T)), "", found);
        return found;
    }

    private static void Walk(JsonElement element, JsonTypeInfo info, string path, List<UnknownField> found)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (Nullable.GetUnderlyingType(info.Type) is { } underlying)
        {
            Walk(element, Options.GetTypeInfo(underlying), path, found);
            return;
        }

        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when element.ValueKind == JsonValueKind.Object:
                var strict = info.PolymorphismOptions is null && !info.Properties.Any(p => p.IsExtensionData)
                    && (info.UnmappedMemberHandling ?? Options.UnmappedMemberHandling) == JsonUnmappedMemberHandling.Disallow;
                foreach (var member in element.EnumerateObject())
                {
                    var memberPath = Join(path, member.Name);
                    if (PropertyOf(info, member.Name) is { } property)
                    {
                        Walk(member.Value, Options.GetTypeInfo(property.PropertyType), memberPath, found);
                    }
                    else if (strict)
                    {
                        found.Add(new UnknownField(memberPath, [.. info.Properties.Select(p => p.Name)]));
                    }
                }

                break;
            case JsonTypeInfoKind.Enumerable when element.ValueKind == JsonValueKind.Array && info.ElementType is { } itemType:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, Options.GetTypeInfo(itemType), $"{path}[{index++}]", found);
                }

                break;
            case JsonTypeInfoKind.Dictionary when element.ValueKind == JsonValueKind.Object && info.ElementType is { } valueType:
                // The keys are the client's data; only values that are objects of a contract have fields.
                foreach (var entry in element.EnumerateObject())
                {
                    Walk(entry.Value, Options.GetTypeInfo(valueType), Join(path, entry.Name), found);
                }

                break;
        }

        // Anything else is a value (string, number, JsonElement, object) or the wrong JSON kind, which the serializer reports.
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static JsonPropertyInfo? PropertyOf(JsonTypeInfo info, string name)
    {
        // The Web defaults match names case-insensitively; the walk must accept exactly what the serializer binds.
        var comparison = Options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var property in info.Properties)
        {
            if (string.Equals(property.Name, name, comparison))
            {
                return property;
            }
        }

        return null;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(ContractJson.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>A member of a request body that its contract does not know.</summary>
/// <param name="Path">Where it is, as the API names fields: <c>maxAttemps</c>, <c>job.retries</c>, <c>steps[2].nmae</c>.</param>
/// <param name="Known">The fields its object does know, for the message: what a client with a typo needs.</param>
internal sealed record UnknownField(string Path, IReadOnlyList<string> Known)
{
    /// <summary>The message of the 400's field error.</summary>
    public string Message => Known.Count == 0
        ? "Unknown field: this request takes no body; the director refuses what it would otherwise ignore."
        : $"Unknown field: the director refuses fields it does not know rather than ignore them. Known here: {string.Join(", ", Known)}.";
}
