using System.Text;
using ControlPlane.Contracts.Jobs;

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
        // A schedule's jobs were accepted by no client: check [5] accounts for them.
        var orphans = evidence.Final.Values.Where(j => !known.Contains(j.Id) && j.ScheduleId is null).ToList();
        var states = ended.Where(e => e.view is not null).GroupBy(e => e.view!.State).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {g.Count()}");
        var attempts = ended.Where(e => e.view is not null).Sum(e => e.view!.Attempt);
        var cells = evidence.Final.Values.GroupBy(j => j.Cell).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
        Line($"1. Jobs: {evidence.Accepted.Count} accepted ({evidence.Accepted.Count(a => a.Status == 200)} answered 200 on a keyed retry, " +
             $"{evidence.Accepted.Count(a => a.Tries > 1)} after more than one try), {evidence.NeverAccepted.Count} never accepted; " +
             $"final states: {string.Join(", ", states)}; {attempts} attempts in all; jobs by cell: {string.Join(", ", cells)}; " +
             $"{orphans.Count} orphan jobs from {evidence.Abandoned.Count} failed unkeyed tries (503 or no answer; {orphans.Count(o => !o.State.IsTerminal())} orphans not terminal).");
        Violate("1", missing, e => $"job {e.a.Id} ({e.a.Plan.Kind}, plan {e.a.Plan.Index}) accepted by {e.a.Director} is missing from the final listing");
        Violate("1", unfinished, e => $"job {e.a.Id} ({e.a.Plan.Kind}) did not end: {e.view!.State}, attempt {e.view.Attempt} on {e.view.WorkerId}, epoch {e.view.Epoch}: {e.view.Error}");
        Violate("1", wrong, e => $"job {e.a.Id} ({e.a.Plan.Kind}) ended {e.view!.State}, expected {e.a.Plan.Expected}, after {e.view.Attempt} attempts: {e.view.Error}");
        Violate("1", doubled, a => $"keyed job {a.Plan.IdempotencyKey} exists {byName[a.Plan.Spec.Name!]} times");
        Violate("1", evidence.NeverAccepted.ToList(), p => $"plan {p.Index} ({p.Kind}) was never accepted: see the request summary in check 4");
    }

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
