using System.Text.Json.Nodes;
using ControlPlane.Client;

namespace ControlPlane.Cli.Events;

/// <summary>One human-readable line per event for <c>cpctl watch</c>: revision, type, what changed.</summary>
internal static class EventRendering
{
    /// <summary>The line for <paramref name="e"/>.</summary>
    public static string Line(ControlPlaneEvent e)
    {
        var data = e.Json();
        var revision = data?["revision"]?.ToString() ?? "-";
        var id = data?["id"]?.ToString();
        var deleted = data?["deleted"]?.GetValue<bool>() == true;
        var what = e.Type switch
        {
            "job" when deleted => $"{id} deleted",
            "job" => Job(id, data?["job"] as JsonObject),
            "worker" when deleted => $"{id} left",
            "worker" => Worker(id, data?["worker"] as JsonObject),
            "leader" => data?["leader"] is JsonObject leader ? $"{leader["directorId"]} leads (epoch {leader["epoch"]})" : "no leader",
            "schedule" when deleted => $"{id} deleted",
            "schedule" => Schedule(id, data?["schedule"] as JsonObject),
            "resync" => $"{data?["reason"]} (re-read with 'cpctl list' / 'cpctl workers')",
            _ => e.Data,
        };
        return $"{revision,-10} {e.Type,-8} {what}";
    }

    private static string Job(string? id, JsonObject? job)
    {
        var parts = new List<string> { id ?? "?", job?["state"]?.ToString() ?? "?" };
        if (job?["spec"]?["name"] is { } name)
        {
            parts.Add(name.ToString());
        }

        if (job?["workerId"] is { } worker)
        {
            parts.Add($"worker={worker}");
        }

        if (job?["attempt"] is { } attempt && attempt.ToString() != "1")
        {
            parts.Add($"attempt={attempt}");
        }

        if (job?["exitCode"] is { } exit)
        {
            parts.Add($"exit={exit}");
        }

        if (job?["error"] is { } error)
        {
            parts.Add($"error={error}");
        }

        return string.Join("  ", parts);
    }

    private static string Worker(string? id, JsonObject? worker)
    {
        var slots = worker?["slotsUsed"] is { } used ? $"slots {used}/{worker?["slots"]}" : $"slots {worker?["slots"]}";
        return $"{id}  {worker?["state"]}  {slots}";
    }

    private static string Schedule(string? id, JsonObject? schedule)
    {
        var paused = schedule?["spec"]?["paused"]?.GetValue<bool>() == true ? "  paused" : "";
        var next = schedule?["nextTick"] is { } tick ? $"  next {tick}" : "";
        return $"{id}  fired {schedule?["fired"] ?? 0}{next}{paused}";
    }
}
