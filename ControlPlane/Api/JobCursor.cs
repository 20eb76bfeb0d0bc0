using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Api;

/// <summary>
/// Where a job listing resumes: the bucket (0–255) and the last job id examined in it. Clients see it as an opaque
/// base64url string of <c>&lt;bucket hex&gt;:&lt;lastId&gt;</c>; it stays valid across directors and restarts
/// because it names a position in the key order, not a server-side snapshot.
/// </summary>
/// <param name="Bucket">Bucket to resume in.</param>
/// <param name="LastId">Last name examined in it, normally a job id (resume strictly after); empty to start at the bucket's beginning.</param>
public sealed record JobCursor(int Bucket, string LastId)
{
    /// <summary>The opaque text form.</summary>
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Bucket:x2}:{LastId}"));

    /// <summary>Parses <see cref="Encode"/>'s output; false for anything else (the client sent a broken cursor).</summary>
    public static bool TryDecode(string? text, out JobCursor? cursor)
    {
        cursor = null;
        // Ours are 47 characters (2 + 1 + 32 bytes encoded); the bound leaves room for a stray key's longer name.
        if (string.IsNullOrEmpty(text) || text.Length > 256 || !Base64Url.IsValid(text))
        {
            return false;
        }

        string plain;
        try
        {
            plain = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = plain.IndexOf(':', StringComparison.Ordinal);
        if (colon != 2 || !int.TryParse(plain.AsSpan(0, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bucket))
        {
            return false;
        }

        var lastId = plain[(colon + 1)..];
        // Usually a job id, but a listing may stop on any key it found in a bucket: accept any key-safe name.
        if (lastId.Length > 0 && !JobSpecValidator.IsName(lastId))
        {
            return false;
        }

        cursor = new JobCursor(bucket, lastId);
        return true;
    }
}
