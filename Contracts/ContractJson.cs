using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>
/// The one JSON dialect of every record in the store and every REST body: camelCase names, enums as
/// strings, nulls omitted. Readers ignore unknown fields (System.Text.Json's default), which is what lets a
/// newer writer add fields without breaking an older reader.
/// </summary>
public static class ContractJson
{
    /// <summary>Options for reading and writing contract records. Do not mutate: the instance is shared and frozen.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Serializes <paramref name="value"/> as UTF-8 JSON bytes.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Deserializes a record; throws <see cref="JsonException"/> (never returns null) when the bytes are not one.</summary>
    /// <exception cref="JsonException">The bytes are not valid JSON for <typeparamref name="T"/>.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8)
        where T : class =>
        JsonSerializer.Deserialize<T>(utf8, Options) ?? throw new JsonException($"Expected a {typeof(T).Name}, found null.");

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            // Duplicate property names are an error, not "last one wins": a record is never ambiguous.
            AllowDuplicateProperties = false,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
