using System.Globalization;
using ControlPlane.Contracts;

namespace ControlPlane.Director.Api;

/// <summary>Parsing of the API's own request headers and query parameters.</summary>
internal static class RequestHeaders
{
    /// <summary>The header carrying a submission's idempotency key.</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>The header asking for a view at least as new as a revision.</summary>
    public const string MinRevision = "X-Min-Revision";

    /// <summary>The header answering the store revision of a write or read.</summary>
    public const string Revision = "X-Revision";

    /// <summary><c>?minRevision=</c>, else <c>X-Min-Revision</c>; null when neither is given.</summary>
    public static bool TryMinRevision(HttpRequest request, out long? minRevision, out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        minRevision = null;
        error = null;
        string? text = request.Query["minRevision"];
        text ??= request.Headers[MinRevision];
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            error = "A store revision: a non-negative integer, as returned in X-Revision.";
            return false;
        }

        minRevision = value;
        return true;
    }

    /// <summary>The idempotency key, or null; false when it is present but unusable.</summary>
    public static bool TryIdempotencyKey(HttpRequest request, out string? key, out string? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        key = null;
        error = null;
        var values = request.Headers[IdempotencyKey];
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count > 1 || string.IsNullOrEmpty(values[0]) || values[0]!.Length > Limits.MaxIdempotencyKeyLength)
        {
            error = $"One value of 1 to {Limits.MaxIdempotencyKeyLength} characters.";
            return false;
        }

        key = values[0];
        return true;
    }
}
