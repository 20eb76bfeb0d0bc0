using System.Globalization;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Check 2: no attempt overlapped another.</summary>
public sealed partial class ChaosChecks
{
    /// <summary>2. No two executions of one job, and no two of one FIFO group, overlapped in time.</summary>
    private void NoAttemptOverlapped()
    {
        var events = evidence.Executions;
        var overlaps = ExecutionLog.Overlaps(events, evidence.KilledAt);
        var intervals = ExecutionLog.Intervals(events, evidence.KilledAt);
        var group = evidence.Accepted.Where(a => a.Plan.Spec.Group is not null).ToDictionary(a => a.Id, a => a.Plan.Spec.Group!);
        var groupOverlaps = new List<string>();
        foreach (var members in intervals.Where(i => group.ContainsKey(i.Start.JobId)).GroupBy(i => group[i.Start.JobId]))
        {
            var ordered = members.OrderBy(i => i.Start.Time).ToList();
            var reach = DateTimeOffset.MinValue;
            (ExecutionEvent Start, DateTimeOffset End)? holder = null;
            foreach (var current in ordered)
            {
                if (holder is { } h && current.Start.Time < reach && h.Start.JobId != current.Start.JobId)
                {
                    groupOverlaps.Add($"group {members.Key}: job {current.Start.JobId} attempt {current.Start.Attempt} started at " +
                        $"{current.Start.Time:HH:mm:ss.fff} while job {h.Start.JobId} attempt {h.Start.Attempt} ran (until {End(reach)})");
                }

                if (current.End > reach)
                {
                    (reach, holder) = (current.End, current);
                }
            }
        }

        var fifoOrder = FifoOrderViolations();
        var killedOpen = intervals.Count(i => evidence.KilledAt.ContainsKey(i.Start.Pid) && i.End == evidence.KilledAt[i.Start.Pid]);
        Line($"2. Executions: {events.Count(e => e.Event == "start")} starts of {events.Select(e => e.JobId).Distinct().Count()} jobs by " +
             $"{events.Select(e => e.Pid).Distinct().Count()} agent processes; {killedOpen} cut short by a kill -9 (ended at the kill), " +
             $"{events.Count(e => e.Event == "fenced")} self-fenced, {events.Count(e => e.Event == "rejected")} late reports rejected; " +
             $"{overlaps.Count} overlaps of one job, {groupOverlaps.Count} within a FIFO group, {fifoOrder.Count} FIFO order inversions.");
        Violate("2", overlaps.ToList(), o => o);
        Violate("2", groupOverlaps, o => o);
        Violate("2", fifoOrder, o => o);
    }

    /// <summary>A FIFO group's jobs finish in submission (creation revision) order.</summary>
    private List<string> FifoOrderViolations()
    {
        var problems = new List<string>();
        foreach (var g in evidence.Accepted.Where(a => a.Plan.Spec.Group is not null && a.Status == 201).GroupBy(a => a.Plan.Spec.Group!))
        {
            var finished = g.OrderBy(a => a.Revision).Select(a => (a, view: evidence.Final.GetValueOrDefault(a.Id))).Where(x => x.view?.FinishedAt is not null).ToList();
            for (var i = 1; i < finished.Count; i++)
            {
                if (finished[i].view!.FinishedAt < finished[i - 1].view!.FinishedAt)
                {
                    problems.Add($"group {g.Key}: job {finished[i].a.Id} (revision {finished[i].a.Revision}) finished at {finished[i].view!.FinishedAt:HH:mm:ss.fff}, " +
                        $"before the earlier job {finished[i - 1].a.Id} (revision {finished[i - 1].a.Revision}) at {finished[i - 1].view!.FinishedAt:HH:mm:ss.fff}");
                }
            }
        }

        return problems;
    }

    private static string End(DateTimeOffset end) => end == DateTimeOffset.MaxValue ? "never ended" : end.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
