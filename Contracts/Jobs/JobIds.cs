namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// Job ids are 32 lowercase hex digits of a version-7 GUID: time-ordered, unguessable enough, and a valid key
/// segment. The last two digits (random bits) pick one of 256 buckets, so no store directory holds more than
/// about 4,000 jobs per million.
/// </summary>
public static class JobIds
{
    /// <summary>Characters in a job id.</summary>
    public const int Length = 32;

    /// <summary>A new, unique job id.</summary>
    public static string New() => Guid.CreateVersion7().ToString("N");

    /// <summary>True when <paramref name="id"/> has the job id form (so it is safe in a key).</summary>
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The bucket (<c>00</c>–<c>ff</c>) of a valid job id.</summary>
    public static string Bucket(string id) => id[^2..];
}
