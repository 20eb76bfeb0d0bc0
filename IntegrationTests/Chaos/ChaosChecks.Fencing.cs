using System.Text.RegularExpressions;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Check 3: no write from a deposed leader was accepted.</summary>
public sealed partial class ChaosChecks
{
    /// <summary>
    /// 3. Placements (the leader writes that name the writer's epoch) obey the fencing order of their own cell, seen
    /// three ways: in the store, every placement commits before its leader's candidate key is deleted and after every
    /// placement of an earlier epoch of its cell, and carries an epoch of its own cell's election (a cell's leader
    /// writes no other cell); through the API and the agents, one attempt has one epoch, of the job's cell, epochs
    /// never fall as attempts rise, and only the job's cell's agents run it.
    /// </summary>
    private void NoDeposedLeaderWriteAccepted()
    {
        var audited = evidence.Audit.Assignments;
        var deletedAt = evidence.Audit.DeletedAt;
        var epochCells = evidence.Audit.EpochCells;
        var afterDeposal = audited.Where(a => deletedAt.TryGetValue(a.Epoch, out var gone) && a.CreateRevision >= gone).ToList();
        // Each cell has its own election, so epochs of different cells interleave freely: the order is per cell.
        var outOfOrder = new List<string>();
        var highest = new Dictionary<string, AuditedAssignment>(StringComparer.Ordinal);
        foreach (var a in audited)
        {
            var before = highest.GetValueOrDefault(a.Cell);
            if (before is not null && a.Epoch < before.Epoch)
            {
                outOfOrder.Add($"{a.Key} (cell {a.Cell}, epoch {a.Epoch}) committed at revision {a.CreateRevision}, after {before.Key} of the later epoch {before.Epoch} at {before.CreateRevision}");
            }

            if (before is null || a.Epoch > before.Epoch)
            {
                highest[a.Cell] = a;
            }
        }

        var crossCell = CrossCellWrites(audited, epochCells);

        // attempt -> epochs per job, from the three sources.
        var seen = new Dictionary<string, SortedDictionary<int, HashSet<(long Epoch, string Source)>>>();
        void Add(string job, int attempt, long epoch, string source)
        {
            if (!seen.TryGetValue(job, out var byAttempt))
            {
                seen[job] = byAttempt = [];
            }

            if (!byAttempt.TryGetValue(attempt, out var set))
            {
                byAttempt[attempt] = set = [];
            }

            set.Add((epoch, source));
        }

        foreach (var (job, byAttempt) in evidence.ObservedEpochs)
        {
            foreach (var (attempt, epochs) in byAttempt)
            {
                foreach (var epoch in epochs)
                {
                    Add(job, attempt, epoch, "api");
                }
            }
        }

        foreach (var e in evidence.Executions.Where(e => e.Event == "start"))
        {
            Add(e.JobId, e.Attempt, e.Epoch, $"agent {e.WorkerId}");
        }

        foreach (var a in audited)
        {
            Add(a.JobId, a.Attempt, a.Epoch, "store");
        }

        var twoEpochs = new List<string>();
        var falling = new List<string>();
        foreach (var (job, byAttempt) in seen)
        {
            long previous = 0;
            var previousAttempt = 0;
            var cell = evidence.Final.GetValueOrDefault(job)?.Cell;
            foreach (var (attempt, set) in byAttempt)
            {
                // What the API and the agents saw (the store's placements are judged above, by the key's cell).
                foreach (var (epoch, source) in set.Where(s => s.Source != "store"))
                {
                    if (cell is not null && epochCells.TryGetValue(epoch, out var owner) && owner != cell)
                    {
                        crossCell.Add($"job {job} of cell {cell}: attempt {attempt} has epoch {epoch} of cell {owner}'s election ({source})");
                    }
                }

                var epochs = set.Select(s => s.Epoch).Distinct().ToList();
                if (epochs.Count > 1)
                {
                    twoEpochs.Add($"job {job} attempt {attempt} carries epochs {string.Join(" and ", set.Select(s => $"{s.Epoch} ({s.Source})"))}");
                }

                if (epochs.Min() < previous)
                {
                    falling.Add($"job {job}: attempt {attempt} has epoch {epochs.Min()}, below attempt {previousAttempt}'s {previous}");
                }

                (previous, previousAttempt) = (epochs.Max(), attempt);
            }
        }

        var logs = evidence.DirectorLogs;
        var refused = logs.Sum(l => Count(l, "Fenced write refused"));
        var terms = logs.SelectMany(l => LeadingEpoch().Matches(l).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))).Distinct().Order().ToList();
        var unknown = logs.Sum(l => Count(l, "writes has an unknown outcome"));
        // How terms ended, as the leaders logged it: their own safety check, a refused write, a kill (no line).
        var endings = logs.SelectMany(l => TermEnded().Matches(l).Select(m => Reason(m.Groups[1].Value)))
            .GroupBy(r => r).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}× {g.Key}");
        var usedEpochs = audited.Select(a => a.Epoch).Distinct().Count();
        var perCell = audited.GroupBy(a => a.Cell).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count()} in {g.Select(a => a.Epoch).Distinct().Count()} epochs");
        var unknownEpoch = audited.Count(a => !epochCells.ContainsKey(a.Epoch));
        Line($"3. Fencing: {terms.Count} leadership terms (epochs {string.Join(", ", terms)}); the store audit saw {audited.Count} placements " +
             $"in {usedEpochs} epochs (by cell: {string.Join(", ", perCell)}; {unknownEpoch} of an epoch whose candidate key it did not see) " +
             $"and {deletedAt.Count} deposals ({evidence.Audit.Errors} watch restarts); " +
             $"{refused} fenced writes of deposed leaders were refused by the store and {unknown} leader batches had an unknown outcome (director logs); " +
             $"terms that ended with a log line (a killed leader writes none): {(endings.Any() ? string.Join(", ", endings) : "none")}; " +
             $"{afterDeposal.Count} placements committed after their leader's deposal, {outOfOrder.Count} out of epoch order, " +
             $"{twoEpochs.Count} attempts with two epochs, {falling.Count} epoch regressions across {seen.Count} jobs, " +
             $"{crossCell.Count} writes or runs across cells.");
        Violate("3", afterDeposal, a => $"{a.Key} (epoch {a.Epoch}) committed at revision {a.CreateRevision}, at or after the deletion of that leader's key (revision ≤ {deletedAt[a.Epoch]})");
        Violate("3", outOfOrder, s => s);
        Violate("3", twoEpochs, s => s);
        Violate("3", falling, s => s);
        Violate("3", crossCell, s => s);
    }

    /// <summary>
    /// Writes of one cell's leader into another cell, as the store and the agents show them: a placement in a cell's
    /// subtree fenced by an epoch of another cell's election, a placement of a job that the listing shows in another
    /// cell, and a job run by an agent of another cell. (A cell's leader is given a view of the store in which no other
    /// cell's key can be named, docs/cells.md; this is that claim checked from outside.)
    /// </summary>
    private List<string> CrossCellWrites(IReadOnlyList<AuditedAssignment> audited, IReadOnlyDictionary<long, string> epochCells)
    {
        var crossCell = new List<string>();
        foreach (var a in audited)
        {
            if (epochCells.TryGetValue(a.Epoch, out var owner) && owner != a.Cell)
            {
                crossCell.Add($"{a.Key} in cell {a.Cell} (revision {a.CreateRevision}) is fenced by epoch {a.Epoch} of cell {owner}'s election");
            }

            if (evidence.Final.GetValueOrDefault(a.JobId) is { } job && job.Cell != a.Cell)
            {
                crossCell.Add($"{a.Key} in cell {a.Cell} places job {a.JobId} of cell {job.Cell}");
            }
        }

        foreach (var e in evidence.Executions.Where(e => e.Event == "start"))
        {
            if (evidence.AgentCells.TryGetValue(e.WorkerId, out var agentCell) && evidence.Final.GetValueOrDefault(e.JobId) is { } job && job.Cell != agentCell)
            {
                crossCell.Add($"job {e.JobId} of cell {job.Cell} attempt {e.Attempt} ran on {e.WorkerId} of cell {agentCell}");
            }
        }

        return crossCell;
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A term-end reason without its variable parts (keys, epochs, durations).</summary>
    private static string Reason(string reason)
    {
        var general = Number().Replace(Key().Replace(reason, "<key>"), "N");
        return general.Length > 90 ? general[..90] : general;
    }

    [GeneratedRegex(@"\S*/\S*")]
    private static partial Regex Key();

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Number();

    [GeneratedRegex(@"Stopped scheduling \(epoch \d+\): ([^\r\n]*)")]
    private static partial Regex TermEnded();

    [GeneratedRegex(@"Scheduling as leader with epoch (\d+)")]
    private static partial Regex LeadingEpoch();
}
