using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using Microsoft.AspNetCore.Http.Features;

namespace ControlPlane.Director.Api;

/// <summary>
/// Reads request bodies itself rather than through parameter binding, so a body that is too large (413), not JSON,
/// of the wrong shape (400 naming the field and position) or carrying fields the contract does not know (400 naming
/// every one of them, <see cref="UnknownFields"/>) gets a precise problem, and authentication runs before any body
/// is read. Every endpoint that takes a body reads it here (<see cref="ReadAsync{T}(HttpRequest, CancellationToken)"/>); those that take none are
/// guarded by <see cref="UnexpectedBodyFilter"/>, which reads through here too.
/// </summary>
internal static class SpecReader
{
    /// <summary>Reads a submitted <see cref="JobSpec"/>.</summary>
    public static Task<(JobSpec? Spec, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<JobSpec>(request, cancellationToken);

    /// <summary>Reads a JSON body of contract <typeparamref name="T"/>: the value, or the problem to answer instead.</summary>
    public static Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class => ReadAsync<T>(request, Limits.MaxBodyBytes, cancellationToken);

    /// <summary>Reads a JSON body of contract <typeparamref name="T"/> of at most <paramref name="maxBytes"/> (a
    /// workflow's body may be larger than a job's).</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (NotJson(request) is { } unsupported)
        {
            return (null, unsupported);
        }

        var (body, problem) = await ReadBytesAsync(request, cancellationToken, maxBytes);
        return problem is not null ? (null, problem) : Parse<T>(body);
    }

    /// <summary>For an endpoint that takes no body: null when there is none (or only <c>{}</c>), else the problem that
    /// names what was sent, so a client never believes a field it sent (<c>{"reason": ...}</c>) was acted on.</summary>
    public static async Task<IResult?> RefuseBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The common case, a request without a body, costs no read (Kestrel knows when there can be none).
        if (request.ContentLength == 0 || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }

        var (body, problem) = await ReadBytesAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        // An empty body is no body, whatever Content-Type a client library sets by habit.
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        return NotJson(request) ?? Parse<NoBody>(body).Problem;
    }

    /// <summary>Parses <paramref name="utf8"/> as <typeparamref name="T"/>, naming every unknown field and the first
    /// malformed one in one 400.</summary>
    internal static (T? Value, IResult? Problem) Parse<T>(ReadOnlyMemory<byte> utf8)
        where T : class
    {
        IReadOnlyList<UnknownField> unknown = [];
        try
        {
            using var document = JsonDocument.Parse(utf8);
            unknown = UnknownFields.Find<T>(document.RootElement);
        }
        catch (JsonException)
        {
            // Not JSON: the serializer below says where, with the same position.
        }

        var errors = unknown.Select(u => (u.Path, u.Message)).ToList();
        T? value = null;
        try
        {
            // Strict options as a second line (types the walk cannot follow); with unknown fields already named, the
            // tolerant ones, so the rest of the body is still checked and its first malformed field reported too.
            var options = unknown.Count == 0 ? UnknownFields.Options : ContractJson.Options;
            value = JsonSerializer.Deserialize<T>(utf8.Span, options) ?? throw new JsonException($"Expected a {typeof(T).Name}, found null.");
        }
        catch (JsonException e)
        {
            errors.Add((FieldOf(e.Path), Describe(e)));
        }

        if (errors.Count == 0)
        {
            return (value, null);
        }

        var detail = unknown.Count == 0 ? null : $"The body has {unknown.Count} field(s) this director does not know: {string.Join(", ", unknown.Select(u => u.Path))}. Nothing was done.";
        return (null, Problems.Fields(errors, detail));
    }

    private static IResult? NotJson(HttpRequest request) =>
        request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? TypedResults.Problem($"Send the body as JSON (Content-Type: application/json), not {type}.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.")
            : null;

    private static async Task<(ReadOnlyMemory<byte> Body, IResult? Problem)> ReadBytesAsync(HttpRequest request, CancellationToken cancellationToken, int maxBytes = Limits.MaxBodyBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            return (default, Problems.TooLarge(maxBytes));
        }

        // Kestrel enforces the same limit; the copy below enforces it on any server (and for chunked bodies).
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (body.Length + read > maxBytes)
                {
                    return (default, Problems.TooLarge(maxBytes));
                }

                body.Write(buffer, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, Problems.TooLarge(maxBytes));
        }

        return (body.GetBuffer().AsMemory(0, (int)body.Length), null);
    }

    /// <summary><c>$.command[2]</c> → <c>command[2]</c>; the whole body is <c>body</c>.</summary>
    internal static string FieldOf(string? path) => path switch
    {
        null or "" or "$" => "body",
        _ when path.StartsWith("$.", StringComparison.Ordinal) => path[2..],
        _ when path.StartsWith("$[", StringComparison.Ordinal) => path[1..],
        _ => path,
    };

    private static string Describe(JsonException e)
    {
        var position = e.LineNumber is { } line ? $" (line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1})" : "";
        var message = e.Message;
        // The serializer's messages end with the path and position, given separately here, and name .NET types,
        // which mean nothing to a client.
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = cut > 0 ? message[..cut] : message;
        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            message = "Wrong JSON type or value for this field";
        }
        else if (message.StartsWith("The JSON property", StringComparison.Ordinal) && message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            message = "Unknown field";
        }

        return message.TrimEnd('.') + position + ".";
    }

    /// <summary>The contract of an endpoint that takes no body: every field is unknown.</summary>
    private sealed record NoBody;
}
