using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Cli.Parsing;

/// <summary>
/// Reads the <see cref="WorkflowSpec"/> of <c>cpctl workflow submit -f</c> from a file or standard input.
/// </summary>
/// <remarks>
/// cpctl sends the spec it read, not the file's bytes, so a field it does not know would be dropped without a word (the
/// director refuses unknown fields, but it would never see this one): such a field is a usage error here, as are JSON
/// that does not parse and a value of the wrong type. Each is named by its path as the API names fields
/// (<c>jobs[1].job.comand</c>) with its line and byte. What only the director can judge (limits, refs, cycles, jobs
/// that must exist) is left to it; it answers with the same field names.
/// </remarks>
internal static class WorkflowFile
{
    /// <summary>Largest file read: a bound on memory, with room for indentation around the director's own limit on the
    /// body (<see cref="Limits.MaxWorkflowBodyBytes"/>), which it checks on what cpctl sends.</summary>
    public const int MaxBytes = 4 * Limits.MaxWorkflowBodyBytes;

    private static readonly JsonSerializerOptions Strict = CreateOptions();

    /// <summary>Reads and parses <paramref name="path"/> (<c>-</c>: standard input).</summary>
    /// <exception cref="UsageException">The file cannot be read, is too large, or is not a workflow.</exception>
    public static WorkflowSpec Read(CliEnvironment environment, string path)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (string.IsNullOrEmpty(path))
        {
            throw new UsageException("-f takes a file name, or - for standard input.");
        }

        var source = path == "-" ? "standard input" : path;
        if (Directory.Exists(path))
        {
            throw new UsageException($"-f: {path} is a directory; give the workflow's JSON file.");
        }

        byte[] bytes;
        try
        {
            using var stream = path == "-" ? environment.OpenInput() : File.OpenRead(path);
            bytes = ReadBounded(stream, source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"-f: cannot read {source}: {e.Message}");
        }

        return Parse(bytes, source);
    }

    /// <summary>Parses <paramref name="utf8"/>; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="UsageException">Not JSON, an unknown field, a value of the wrong type, or no object at all.</exception>
    public static WorkflowSpec Parse(ReadOnlySpan<byte> utf8, string source)
    {
        if (utf8.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new UsageException($"{source} is empty; a workflow is {Shape}.");
        }

        try
        {
            return JsonSerializer.Deserialize<WorkflowSpec>(utf8, Strict) ?? throw new UsageException($"{source} holds null; a workflow is {Shape}.");
        }
        catch (JsonException e)
        {
            var position = e.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $", line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1}")
                : "";
            // An inner exception of the reader's own: the text is not JSON at all.
            throw new UsageException(e.InnerException is JsonException
                ? $"{source}{position}: not valid JSON: {Trim(e.Message).Replace(" Change the reader options.", "", StringComparison.Ordinal)}"
                : $"{source}{position}: {Describe(e)}");
        }
    }

    private const string Shape = """{"jobs": [{"ref": "extract", "job": {"executor": "shell", "command": [...]}}, ...]}""";

    private static byte[] ReadBounded(Stream stream, string source)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (copy.Length + read > MaxBytes)
            {
                throw new UsageException($"{source} is larger than {MaxBytes / (1024 * 1024)} MiB; a director takes a workflow of at most {Limits.MaxWorkflowBodyBytes / (1024 * 1024)} MiB.");
            }

            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    /// <summary>The serializer's complaint in the API's words: the field, then what is wrong with it.</summary>
    private static string Describe(JsonException e)
    {
        var segments = Segments(e.Path);
        var message = Trim(e.Message);
        if (message.StartsWith("The JSON property", StringComparison.Ordinal) && message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            // The path may or may not end with the unknown name; its container is the last object the path resolves to.
            var name = Quoted(message) ?? "?";
            var container = Resolve(segments);
            if (container is null && segments.Count > 0)
            {
                segments.RemoveAt(segments.Count - 1);
                container = Resolve(segments);
            }

            var known = container?.Kind == JsonTypeInfoKind.Object ? string.Join(", ", container.Properties.Select(p => p.Name)) : null;
            return $"{Field([.. segments, name])}: unknown field; cpctl refuses fields it does not know rather than drop them"
                + (known is null ? "." : $". Known here: {known}.");
        }

        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return $"{Field(segments)}: wrong JSON type or value" + (Resolve(segments) is { } info ? $"; expected {Expected(info.Type)}." : ".");
        }

        if (message.StartsWith("Duplicate property", StringComparison.Ordinal))
        {
            return $"{Field(segments)}: given twice in one object.";
        }

        return $"{Field(segments)}: {message}";
    }

    /// <summary>A path as the API names fields: <c>jobs[1].job.dependsOn[0].on</c>; the whole document is <c>body</c>.</summary>
    private static string Field(IReadOnlyList<object> segments)
    {
        var text = new System.Text.StringBuilder();
        foreach (var segment in segments)
        {
            if (segment is int index)
            {
                text.Append(CultureInfo.InvariantCulture, $"[{index}]");
            }
            else
            {
                text.Append(text.Length == 0 ? "" : ".").Append((string)segment);
            }
        }

        return text.Length == 0 ? "body" : text.ToString();
    }

    /// <summary>The serializer's path (<c>$.jobs[1].job</c>, <c>$['odd name']</c>) as names and indices.</summary>
    private static List<object> Segments(string? path)
    {
        var segments = new List<object>();
        var text = path ?? "$";
        var i = text.StartsWith('$') ? 1 : 0;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var end = text.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? text.Length : end;
                segments.Add(text[(i + 1)..end]);
                i = end;
            }
            else if (text[i] == '[' && i + 1 < text.Length && text[i + 1] == '\'')
            {
                var end = text.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end;
                segments.Add(text[(i + 2)..end]);
                i = end + 2;
            }
            else if (text[i] == '[')
            {
                var end = text.IndexOf(']', i + 1);
                end = end < 0 ? text.Length : end;
                segments.Add(int.TryParse(text[(i + 1)..end], NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : text[(i + 1)..end]);
                i = end + 1;
            }
            else
            {
                break; // not a path the serializer writes: name what was understood
            }
        }

        return segments;
    }

    /// <summary>The contract type at <paramref name="segments"/> under <see cref="WorkflowSpec"/>, or null where the path
    /// leaves the contract.</summary>
    private static JsonTypeInfo? Resolve(IReadOnlyList<object> segments)
    {
        JsonTypeInfo? info = Strict.GetTypeInfo(typeof(WorkflowSpec));
        foreach (var segment in segments)
        {
            Type? next = (info?.Kind, segment) switch
            {
                (JsonTypeInfoKind.Object, string name) => info!.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))?.PropertyType,
                (JsonTypeInfoKind.Dictionary, string) or (JsonTypeInfoKind.Enumerable, int) => info!.ElementType,
                _ => null,
            };
            info = next is null ? null : Strict.GetTypeInfo(Nullable.GetUnderlyingType(next) ?? next);
        }

        return info;
    }

    private static string Expected(Type type) => type switch
    {
        _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant())),
        _ when type == typeof(string) => "a string",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) => "a whole number",
        _ when type == typeof(DateTimeOffset) => "an ISO 8601 time with an offset, e.g. \"2026-12-24T09:00:00Z\"",
        _ when Strict.GetTypeInfo(type).Kind == JsonTypeInfoKind.Enumerable => "an array",
        _ when Strict.GetTypeInfo(type).Kind == JsonTypeInfoKind.Dictionary => "an object of strings",
        _ => "an object",
    };

    /// <summary>The serializer's message without its trailing path and position (given separately) or .NET type names.</summary>
    private static string Trim(string message)
    {
        foreach (var marker in new[] { " Path:", " LineNumber:" })
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            message = cut > 0 ? message[..cut] : message;
        }

        return message.TrimEnd();
    }

    private static string? Quoted(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? message[(start + 1)..end] : null;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(ContractJson.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
