namespace ControlPlane.Director.Auth;

/// <summary>
/// The <c>Auth:*</c> section: bearer tokens accepted by the <c>/v1</c> API. With no token configured at all the
/// API is open (a warning is logged at start-up), which suits a laptop, not a shared network.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Auth";

    /// <summary>Tokens that may call every endpoint. <value>None.</value></summary>
    public IList<string> Tokens { get; } = [];

    /// <summary>Tokens that may only read (GET); writes answer 403. <value>None.</value></summary>
    public IList<string> ReadOnlyTokens { get; } = [];

    /// <summary>True when at least one token is configured, so requests must carry one.</summary>
    public bool Enabled => Tokens.Count > 0 || ReadOnlyTokens.Count > 0;

    /// <summary>Every problem with the settings, empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (list, name) in new[] { (Tokens, nameof(Tokens)), (ReadOnlyTokens, nameof(ReadOnlyTokens)) })
        {
            for (var i = 0; i < list.Count; i++)
            {
                // A token is sent verbatim after "Bearer ": whitespace could never match, and a short one is guessable.
                if (string.IsNullOrEmpty(list[i]) || list[i].Any(char.IsWhiteSpace) || list[i].Length < 8)
                {
                    yield return $"Auth:{name}:{i} must be at least 8 characters without whitespace.";
                }
            }
        }
    }
}
