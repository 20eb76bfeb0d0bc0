using System.Text.RegularExpressions;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Check 3: no write from a deposed leader was accepted.</summary>
public sealed partial class ChaosChecks
{
    /// <summary>
    /// 3. Placements (the leader writes that name the writer's epoch) obey the fencing order, seen three ways: in the
    /// store, every placement commits before its leader's candidate key is deleted and after every placement of an
    /// earlier epoch; through the API and the agents, one attempt has one epoch and epochs never fall as attempts rise.
    /// </summary>
    private void NoDeposedLeaderWriteAccepted()
    {
        var audited = evidence.Audit.Assignments;
        var deletedAt = evidence.Audit.DeletedAt;
        var afterDeposal = audited.Where(a => deletedAt.TryGetValue(a.Epoch, out var gone) && a.CreateRevision >= gone).ToList();
        var outOfOrder = new List<string>();
        AuditedAssignment? highest = null;
        foreach (var a in audited)
        {
            if (highest is not null && a.Epoch < highest.Epoch)
            {
                outOfOrder.Add($"{a.Key} (epoch {a.Epoch}) committed at revision {a.CreateRevision}, after {highest.Key} of the later epoch {highest.Epoch} at {highest.CreateRevision}");
            }

            if (highest is null || a.Epoch > highest.Epoch)
            {
                highest = a;
            }
        }

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
            foreach (var (attempt, set) in byAttempt)
            {
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
        Line($"3. Fencing: {terms.Count} leadership terms (epochs {string.Join(", ", terms)}); the store audit saw {audited.Count} placements " +
             $"in {usedEpochs} epochs and {deletedAt.Count} deposals ({evidence.Audit.Errors} watch restarts); " +
             $"{refused} fenced writes of deposed leaders were refused by the store and {unknown} leader batches had an unknown outcome (director logs); " +
             $"terms that ended with a log line (a killed leader writes none): {(endings.Any() ? string.Join(", ", endings) : "none")}; " +
             $"{afterDeposal.Count} placements committed after their leader's deposal, {outOfOrder.Count} out of epoch order, " +
             $"{twoEpochs.Count} attempts with two epochs, {falling.Count} epoch regressions across {seen.Count} jobs.");
        Violate("3", afterDeposal, a => $"{a.Key} (epoch {a.Epoch}) committed at revision {a.CreateRevision}, at or after the deletion of that leader's key (revision ≤ {deletedAt[a.Epoch]})");
        Violate("3", outOfOrder, s => s);
        Violate("3", twoEpochs, s => s);
        Violate("3", falling, s => s);
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
