namespace ControlPlane.Contracts.Directors;

/// <summary>
/// The record at <c>meta/cell-policies/&lt;cell&gt;</c>: which director versions may lead the cell (docs/cells.md,
/// "Version-gated leadership"). A director whose <see cref="DirectorRecord.Version"/> matches none of
/// <see cref="AllowedVersions"/> does not campaign in the cell, and resigns it when the policy changes under it. A cell
/// without a record may be led by any version.
/// </summary>
public sealed record CellPolicyRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The cell.</summary>
    public string Cell { get; init; } = "";

    /// <summary>Version patterns (<see cref="CellPolicies"/>): an exact version, or a prefix ending in <c>*</c>.</summary>
    public IReadOnlyList<string> AllowedVersions { get; init; } = [];

    /// <summary>When it was last written (the writing director's clock).</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Who wrote it: the id of the director that served the request.</summary>
    public string? UpdatedBy { get; init; }
}

/// <summary>The body of <c>PUT /v1/cells/{cell}/policy</c>.</summary>
public sealed record CellPolicyRequest
{
    /// <summary>The director versions allowed to lead the cell: 1 to 16 patterns, each an exact version or a prefix ending
    /// in <c>*</c> (<c>2.4.*</c>, <c>*</c>).</summary>
    public IReadOnlyList<string>? AllowedVersions { get; init; }
}

/// <summary>Director versions and the patterns of a <see cref="CellPolicyRecord"/>.</summary>
public static class CellPolicies
{
    /// <summary>Most patterns a policy holds.</summary>
    public const int MaxPatterns = 16;

    /// <summary>Longest version or pattern, in characters.</summary>
    public const int MaxVersionLength = 64;

    /// <summary>True when <paramref name="version"/> matches one of <paramref name="patterns"/>: equal to a pattern, or
    /// starting with what precedes a pattern's trailing <c>*</c>. Ordinal, case-sensitive.</summary>
    public static bool Allows(IReadOnlyList<string> patterns, string version)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        ArgumentNullException.ThrowIfNull(version);
        foreach (var pattern in patterns)
        {
            if (pattern.EndsWith('*') ? version.StartsWith(pattern[..^1], StringComparison.Ordinal) : version == pattern)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Null when <paramref name="version"/> is a usable director version (1 to 64 characters of letters, digits,
    /// '.', '_', '+' and '-'), else why not.</summary>
    public static string? VersionProblem(string? version) => Problem(version, "A director version", wildcard: false);

    /// <summary>Null when <paramref name="patterns"/> is a usable list of version patterns, else why not.</summary>
    public static string? PatternsProblem(IReadOnlyList<string>? patterns)
    {
        if (patterns is null || patterns.Count == 0)
        {
            return "allowedVersions must list 1 to 16 director versions or patterns (a prefix ending in '*'); to let any version lead, remove the policy (cpctl cell unpin).";
        }

        if (patterns.Count > MaxPatterns)
        {
            return $"allowedVersions lists {patterns.Count} patterns; at most {MaxPatterns}.";
        }

        foreach (var pattern in patterns)
        {
            if (Problem(pattern, "A version pattern", wildcard: true) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? Problem(string? text, string what, bool wildcard)
    {
        if (string.IsNullOrEmpty(text) || text.Length > MaxVersionLength)
        {
            return $"{what} has 1 to {MaxVersionLength} characters; got '{text}'.";
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' || (wildcard && c == '*' && i == text.Length - 1)))
            {
                return c == '*'
                    ? $"{what} '{text}' has '*' at {i}; '*' may only end a pattern (a prefix match)."
                    : $"{what} '{text}' has '{c}' at {i}; versions use letters, digits, '.', '_', '+' and '-'.";
            }
        }

        return null;
    }
}
