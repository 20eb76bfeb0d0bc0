using System.Globalization;
using System.Text;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The four checks of a chaos run. Each appends what it saw to the report and its violations to the list; the test
/// fails when the list is not empty. docs/chaos.md says what each check proves and what it cannot.
/// </summary>
public sealed partial class ChaosChecks(ChaosEvidence evidence, TimeSpan grace)
{
    private const int Shown = 15;

    /// <summary>The report: counts and findings of every check.</summary>
    public StringBuilder Report { get; } = new();

    /// <summary>Every violation found, one line each, prefixed by its check.</summary>
    public List<string> Violations { get; } = [];

    /// <summary>Runs every check.</summary>
    public void RunAll()
    {
        NoJobLost();
        NoAttemptOverlapped();
        NoDeposedLeaderWriteAccepted();
        NoServerErrorOutsideStoreFaults();
    }

    /// <summary>1. Every accepted job reached a terminal state, the one it was designed to reach, exactly once.</summary>
    private void NoJobLost()
    {
        var ended = evidence.Accepted.Select(a => (a, view: evidence.Final.GetValueOrDefault(a.Id))).ToList();
        var missing = ended.Where(e => e.view is null).ToList();
        var unfinished = ended.Where(e => e.view is { } v && !v.State.IsTerminal()).ToList();
        var wrong = ended.Where(e => e.view is { } v && v.State.IsTerminal() && v.State != e.a.Plan.Expected).ToList();
        var byName = evidence.Final.Values.GroupBy(j => j.Spec.Name ?? "").ToDictionary(g => g.Key, g => g.Count());
        var doubled = evidence.Accepted.Where(a => a.Plan.IdempotencyKey is not null && byName.GetValueOrDefault(a.Plan.Spec.Name ?? "") > 1).ToList();
        var known = evidence.Accepted.Select(a => a.Id).ToHashSet();
        var orphans = evidence.Final.Values.Where(j => !known.Contains(j.Id)).ToList();
        var states = ended.Where(e => e.view is not null).GroupBy(e => e.view!.State).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {g.Count()}");
        var attempts = ended.Where(e => e.view is not null).Sum(e => e.view!.Attempt);
        Line($"1. Jobs: {evidence.Accepted.Count} accepted ({evidence.Accepted.Count(a => a.Status == 200)} answered 200 on a keyed retry, " +
             $"{evidence.Accepted.Count(a => a.Tries > 1)} after more than one try), {evidence.NeverAccepted.Count} never accepted; " +
             $"final states: {string.Join(", ", states)}; {attempts} attempts in all; " +
             $"{orphans.Count} orphan jobs from {evidence.Abandoned.Count} failed unkeyed tries (503 or no answer; {orphans.Count(o => !o.State.IsTerminal())} orphans not terminal).");
        Violate("1", missing, e => $"job {e.a.Id} ({e.a.Plan.Kind}, plan {e.a.Plan.Index}) accepted by {e.a.Director} is missing from the final listing");
        Violate("1", unfinished, e => $"job {e.a.Id} ({e.a.Plan.Kind}) did not end: {e.view!.State}, attempt {e.view.Attempt} on {e.view.WorkerId}, epoch {e.view.Epoch}: {e.view.Error}");
        Violate("1", wrong, e => $"job {e.a.Id} ({e.a.Plan.Kind}) ended {e.view!.State}, expected {e.a.Plan.Expected}, after {e.view.Attempt} attempts: {e.view.Error}");
        Violate("1", doubled, a => $"keyed job {a.Plan.IdempotencyKey} exists {byName[a.Plan.Spec.Name!]} times");
        Violate("1", evidence.NeverAccepted.ToList(), p => $"plan {p.Index} ({p.Kind}) was never accepted: see the request summary in check 4");
    }

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

    private void Line(string text) => Report.Append(text).Append('\n');

    private void Violate<T>(string check, IReadOnlyList<T> items, Func<T, string> describe)
    {
        foreach (var item in items.Take(Shown))
        {
            Violations.Add($"[{check}] {describe(item)}");
        }

        if (items.Count > Shown)
        {
            Violations.Add($"[{check}] ... and {items.Count - Shown} more");
        }
    }
}
