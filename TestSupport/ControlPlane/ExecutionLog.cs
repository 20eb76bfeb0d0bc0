using System.Text.Json;

namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>One line of an agent's execution log (<c>Agent:ExecutionLog</c>).</summary>
/// <param name="Event"><c>start</c>, <c>end</c>, <c>rejected</c> or <c>fenced</c>.</param>
/// <param name="JobId">Job.</param>
/// <param name="Attempt">Attempt.</param>
/// <param name="Epoch">Leader epoch of the assignment.</param>
/// <param name="WorkerId">Agent's worker id.</param>
/// <param name="Pid">Agent process id.</param>
/// <param name="Time">When (UTC, agent clock: the same machine in tests).</param>
/// <param name="State">For <c>end</c>: how the attempt ended.</param>
public sealed record ExecutionEvent(string Event, string JobId, int Attempt, long Epoch, string WorkerId, int Pid, DateTimeOffset Time, string? State);

/// <summary>Reads agents' execution logs and checks that no two attempts of one job ever ran at the same time.</summary>
public static class ExecutionLog
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>Every event of the given files, in time order (a torn last line of a killed agent is skipped).</summary>
    public static IReadOnlyList<ExecutionEvent> Read(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var events = new List<ExecutionEvent>();
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                try
                {
                    if (JsonSerializer.Deserialize<ExecutionEvent>(line, Options) is { } e)
                    {
                        events.Add(e);
                    }
                }
                catch (JsonException)
                {
                    // Only the last line of a process killed mid-write can be torn.
                }
            }
        }

        return [.. events.OrderBy(e => e.Time)];
    }

    /// <summary>
    /// Every execution as an interval: from its start to its end, or to the moment its agent was killed
    /// (<paramref name="killedAt"/> by pid), or open (still running) when neither is known.
    /// </summary>
    public static IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> Intervals(
        IReadOnlyList<ExecutionEvent> events, IReadOnlyDictionary<int, DateTimeOffset>? killedAt = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        var ends = events.Where(e => e.Event == "end").ToLookup(e => (e.JobId, e.Attempt, e.Pid));
        var result = new List<(ExecutionEvent, DateTimeOffset)>();
        foreach (var start in events.Where(e => e.Event == "start"))
        {
            var end = ends[(start.JobId, start.Attempt, start.Pid)].Select(e => (DateTimeOffset?)e.Time).FirstOrDefault()
                ?? (killedAt is not null && killedAt.TryGetValue(start.Pid, out var killed) ? killed : DateTimeOffset.MaxValue);
            result.Add((start, end));
        }

        return result;
    }

    /// <summary>Descriptions of every pair of executions of one job that overlapped in time, or ran the same
    /// attempt twice; empty when the history is clean.</summary>
    public static IReadOnlyList<string> Overlaps(IReadOnlyList<ExecutionEvent> events, IReadOnlyDictionary<int, DateTimeOffset>? killedAt = null)
    {
        var problems = new List<string>();
        foreach (var job in Intervals(events, killedAt).GroupBy(i => i.Start.JobId))
        {
            var ordered = job.OrderBy(i => i.Start.Time).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (previous, previousEnd) = ordered[i - 1];
                var (current, _) = ordered[i];
                if (current.Time < previousEnd)
                {
                    problems.Add($"job {job.Key}: attempt {current.Attempt} on {current.WorkerId} started at {current.Time:O} " +
                        $"before attempt {previous.Attempt} on {previous.WorkerId} ended at {(previousEnd == DateTimeOffset.MaxValue ? "never" : previousEnd.ToString("O"))}");
                }

                if (current.Attempt == previous.Attempt)
                {
                    problems.Add($"job {job.Key}: attempt {current.Attempt} ran twice ({previous.WorkerId}, {current.WorkerId})");
                }
            }
        }

        return problems;
    }
}
