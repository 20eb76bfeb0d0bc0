using System.Buffers.Text;
using System.Text;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Api;

/// <summary>
/// Where a worker listing resumes: the last worker id examined (the next page starts strictly after it). Clients see
/// an opaque base64url string; like <see cref="JobCursor"/> it names a position in the key order, not a server-side
/// snapshot, so any director serves the next page.
/// </summary>
/// <param name="LastId">Last worker id examined (not necessarily listed: a page may end on a drain or suspect marker).</param>
public sealed record WorkerCursor(string LastId)
{
    /// <summary>Longest id a cursor may carry: worker ids are at most 128 characters.</summary>
    private const int MaxIdLength = 128;

    /// <summary>The opaque text form.</summary>
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(LastId));

    /// <summary>Parses <see cref="Encode"/>'s output; false for anything else (the client sent a broken cursor).</summary>
    public static bool TryDecode(string? text, out WorkerCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text) || text.Length > 256 || !Base64Url.IsValid(text))
        {
            return false;
        }

        string id;
        try
        {
            id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text));
        }
        catch (FormatException)
        {
            return false;
        }

        if (id.Length is 0 or > MaxIdLength || id.Contains('/', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            StoreKeys.Validate(id, nameof(text));
        }
        catch (ArgumentException)
        {
            return false;
        }

        cursor = new WorkerCursor(id);
        return true;
    }
}
