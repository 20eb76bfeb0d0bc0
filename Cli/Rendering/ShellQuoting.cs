namespace ControlPlane.Cli.Rendering;

/// <summary>Prints an argv so a person can paste it into a POSIX shell and get the same words back.</summary>
internal static class ShellQuoting
{
    /// <summary>Joins the words, single-quoting those a shell would split or expand.</summary>
    public static string Join(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    /// <summary>One word, quoted when it needs to be; an embedded <c>'</c> becomes <c>'\''</c>.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var plain = word.Length > 0 && word.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,+@%".Contains(ch, StringComparison.Ordinal));
        return plain ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
