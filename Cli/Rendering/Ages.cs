using System.Globalization;

namespace ControlPlane.Cli.Rendering;

/// <summary>Short human ages and durations: <c>42s</c>, <c>5m</c>, <c>3h</c>, <c>2d</c>.</summary>
internal static class Ages
{
    /// <summary>How long ago <paramref name="then"/> was; a time in the future (clock skew) is <c>0s</c>.</summary>
    public static string Since(DateTimeOffset then, DateTimeOffset now) => Format(now - then);

    /// <summary>A duration in its largest whole unit (truncated, like <c>kubectl</c>'s AGE).</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        var c = CultureInfo.InvariantCulture;
        return span.TotalSeconds < 120 ? ((long)span.TotalSeconds).ToString(c) + "s"
            : span.TotalMinutes < 120 ? ((long)span.TotalMinutes).ToString(c) + "m"
            : span.TotalHours < 48 ? ((long)span.TotalHours).ToString(c) + "h"
            : ((long)span.TotalDays).ToString(c) + "d";
    }
}
