using System.Globalization;
using ControlPlane.Contracts.Directors;

namespace ControlPlane.Cli.Rendering;

/// <summary>Renders <c>GET /v1/cells/{cell}/shadow</c> for <c>cpctl shadow</c>.</summary>
internal static class ShadowRendering
{
    /// <summary>One row per shadow (its counts), then each shadow's last differences, oldest first.</summary>
    public static void Write(TextWriter writer, string cell, IReadOnlyList<ShadowReport> shadows, DateTimeOffset now)
    {
        if (shadows.Count == 0)
        {
            writer.WriteLine($"No shadow director follows cell {cell}.");
            return;
        }

        var c = CultureInfo.InvariantCulture;
        var table = new Table("SHADOW", "VERSION", "PLACEMENT", "SINCE", "AGREE", "DIFFER", "UNPLANNED", "LATE", "OUTSTANDING");
        foreach (var s in shadows)
        {
            table.Add(s.DirectorId, s.Version, s.Placement, Ages.Since(s.Since, now), s.Agree.ToString(c), s.Differ.ToString(c),
                s.Unplanned.ToString(c), s.Late.ToString(c), s.Outstanding.ToString(c));
        }

        table.WriteTo(writer);
        foreach (var s in shadows.Where(s => s.Differences.Count > 0))
        {
            writer.WriteLine();
            writer.WriteLine($"Last differences of {s.DirectorId}:");
            var differences = new Table("JOB", "ATTEMPT", "LEADER", "SHADOW", "SEEN");
            foreach (var d in s.Differences)
            {
                differences.Add(d.JobId, d.Attempt.ToString(c), d.LeaderWorker, d.ShadowWorker ?? "none", Ages.Since(d.At, now) + " ago");
            }

            differences.WriteTo(writer);
        }
    }
}
