using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using Microsoft.AspNetCore.Http.Features;

namespace ControlPlane.Director.Api;

/// <summary>
/// Reads a submitted <see cref="JobSpec"/> itself rather than through parameter binding, so a body that is too
/// large (413), not JSON, or of the wrong shape (400 naming the field and position) gets a precise problem, and
/// authentication runs before any body is read.
/// </summary>
internal static class SpecReader
{
    public static Task<(JobSpec? Spec, IResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadAsync<JobSpec>(request, "job", cancellationToken);

    /// <summary>Reads a JSON body of type <typeparamref name="T"/> (<paramref name="what"/> names it in messages).</summary>
    public static async Task<(T? Body, IResult? Problem)> ReadAsync<T>(HttpRequest request, string what, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TypedResults.Problem($"Send the {what} as JSON (Content-Type: application/json), not {type}.",
                statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type."));
        }

        if (request.ContentLength > Limits.MaxBodyBytes)
        {
            return (null, Problems.TooLarge());
        }

        // Kestrel enforces the same limit; the copy below enforces it on any server (and for chunked bodies).
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = Limits.MaxBodyBytes;
        }

        var body = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (body.Length + read > Limits.MaxBodyBytes)
                {
                    return (null, Problems.TooLarge());
                }

                body.Write(buffer, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.TooLarge());
        }

        try
        {
            return (ContractJson.Deserialize<T>(body.GetBuffer().AsSpan(0, (int)body.Length)), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Field(FieldOf(e.Path), Describe(e)));
        }
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

        return message.TrimEnd('.') + position + ".";
    }
}
