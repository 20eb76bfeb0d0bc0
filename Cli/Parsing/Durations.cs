using System.Globalization;

namespace ControlPlane.Cli.Parsing;

/// <summary>Parses durations as people type them: <c>90</c> (seconds), <c>90s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, <c>1.5h</c>.</summary>
internal static class Durations
{
    /// <summary>Longest duration accepted: far beyond any job or wait, and far from date arithmetic overflow.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(366);

    /// <summary>The duration <paramref name="text"/> names.</summary>
    /// <exception cref="UsageException">Not a positive number with an optional unit s, m, h or d, or longer than <see cref="Max"/>.</exception>
    public static TimeSpan Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var unit = trimmed.Length > 0 && char.IsAsciiLetter(trimmed[^1]) ? char.ToLowerInvariant(trimmed[^1]) : 's';
        var number = char.IsAsciiLetter(trimmed.LastOrDefault()) ? trimmed[..^1] : trimmed;
        var scale = unit switch
        {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => double.NaN,
        };
        if (double.IsNaN(scale) ||
            !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ||
            value <= 0 || value * scale > Max.TotalSeconds)
        {
            throw new UsageException($"{option} takes a positive duration up to {Max.TotalDays:0} days, such as 30, 30s, 5m, 2h or 1d; got '{text}'.");
        }

        return TimeSpan.FromSeconds(value * scale);
    }
}
