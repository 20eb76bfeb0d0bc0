using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>Why queued jobs were not placed in the leader's last pass, bounded for <see cref="QueueStatusRecord"/>.</summary>
/// <param name="Unplaced">Classes no worker could take, most jobs first (<see cref="QueueStatusRecord.Unplaced"/>).</param>
/// <param name="UnplacedOmitted">Classes set aside but left out by the bounds.</param>
/// <param name="GroupHeads">FIFO groups with a job waiting behind another (<see cref="QueueStatusRecord.GroupHeads"/>).</param>
/// <param name="GroupHeadsOmitted">Such groups left out by the bounds.</param>
public sealed record QueueExplanation(
    IReadOnlyList<UnplacedClass> Unplaced, int UnplacedOmitted, IReadOnlyDictionary<string, GroupHead> GroupHeads, int GroupHeadsOmitted)
{
    /// <summary>Nothing waits for a reason: every queued job found a worker and no group or key holds a job back.</summary>
    public static QueueExplanation None { get; } = new([], 0, new Dictionary<string, GroupHead>(StringComparer.Ordinal), 0);

    /// <summary>Full concurrency keys that held queued jobs back (<see cref="QueueStatusRecord.ConcurrencyKeys"/>).</summary>
    public IReadOnlyDictionary<string, ConcurrencyKeyStatus> Keys { get; init; } = new Dictionary<string, ConcurrencyKeyStatus>(StringComparer.Ordinal);

    /// <summary>Such keys left out by the bounds.</summary>
    public int KeysOmitted { get; init; }
}

/// <summary>
/// Turns what a pass set aside into reasons any director can serve (<c>GET /v1/jobs/{id}/explain</c>).
/// </summary>
/// <remarks>
/// Cost: the pass itself only records each class it sets aside (O(1) per class: O(classes) per pass, nothing per job
/// or per worker). This report is built by the queue status publisher at most once per
/// <c>Scheduler:QueueStatusInterval</c>, never per pass: it sorts the set-aside classes (O(c log c)), judges the
/// <see cref="QueueStatusRecord.MaxUnplaced"/> largest against every live worker (O(workers × 32)), and reads the
/// FIFO groups (O(groups), like the pending counts by group) and the full concurrency keys the pass recorded
/// (O(k log k) for k held classes). At 10,000 workers that is 320,000 cheap comparisons a
/// second at most, and nothing while every queued job finds a worker and no group holds one back.
/// </remarks>
internal static class PlacementReport
{
    /// <summary>The report of the pass that produced <paramref name="plan"/> on <paramref name="state"/>.</summary>
    public static QueueExplanation Build(LeaderState state, Plan plan)
    {
        var unplaced = new List<UnplacedClass>();
        var omitted = 0;
        if (plan.SetAside.Count > 0)
        {
            // Classes of one requirement differ only by concurrency key: one diagnosis for all of them.
            var classes = plan.SetAside
                .GroupBy(c => c.Requirement.Key, StringComparer.Ordinal)
                .Select(g => (Requirement: g.First().Requirement, Jobs: g.Sum(c => c.Jobs)))
                .OrderByDescending(c => c.Jobs)
                .ThenBy(c => c.Requirement.Key, StringComparer.Ordinal)
                .ToList();
            var bytes = 0;
            foreach (var (requirement, jobs) in classes)
            {
                if (unplaced.Count == QueueStatusRecord.MaxUnplaced)
                {
                    omitted = classes.Count - unplaced.Count;
                    break;
                }

                var diagnosis = Diagnose(requirement, jobs, state.Workers.Values);
                var size = JsonSerializer.SerializeToUtf8Bytes(diagnosis, ContractJson.Options).Length + 1;
                if (bytes + size > QueueStatusRecord.MaxExplainBytes)
                {
                    omitted++;
                    continue;
                }

                bytes += size;
                unplaced.Add(diagnosis);
            }
        }

        var (heads, headsOmitted) = Heads(state);
        var (keys, keysOmitted) = Keys(plan);
        return unplaced.Count == 0 && omitted == 0 && heads.Count == 0 && headsOmitted == 0 && keys.Count == 0
            ? QueueExplanation.None
            : new QueueExplanation(unplaced, omitted, heads, headsOmitted) { Keys = keys, KeysOmitted = keysOmitted };
    }

    /// <summary>The full keys of the pass, most waiting jobs first, within <see cref="QueueStatusRecord.MaxConcurrencyKeys"/>
    /// and <see cref="QueueStatusRecord.MaxExplainBytes"/>; a key's classes (one per limit and requirement) are summed.</summary>
    private static (Dictionary<string, ConcurrencyKeyStatus> Keys, int Omitted) Keys(Plan plan)
    {
        var keys = new Dictionary<string, ConcurrencyKeyStatus>(StringComparer.Ordinal);
        if (plan.HeldKeys.Count == 0)
        {
            return (keys, 0);
        }

        var held = plan.HeldKeys
            .GroupBy(h => h.Key, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Status: new ConcurrencyKeyStatus { Out = g.Max(h => h.Out), Limit = g.Min(h => h.Limit), Waiting = g.Sum(h => h.Jobs) }))
            .OrderByDescending(h => h.Status.Waiting)
            .ThenBy(h => h.Key, StringComparer.Ordinal)
            .ToList();
        var bytes = 0;
        var omitted = 0;
        foreach (var (key, status) in held)
        {
            // The key as ContractJson writes it and the three counts around it.
            var size = JsonEncodedText.Encode(key).EncodedUtf8Bytes.Length + 64;
            if (keys.Count == QueueStatusRecord.MaxConcurrencyKeys || bytes + size > QueueStatusRecord.MaxExplainBytes)
            {
                omitted++;
                continue;
            }

            bytes += size;
            keys[key] = status;
        }

        return (keys, omitted);
    }

    /// <summary>
    /// Judges one requirement against <paramref name="workers"/> step by step (executor, features, labels, readiness,
    /// room), counting each worker at the first step it fails. The same rules as <see cref="WorkerIndex.Pick"/> and
    /// <see cref="WorkerInfo.Ready"/>; O(workers).
    /// </summary>
    public static UnplacedClass Diagnose(Requirement need, int jobs, IEnumerable<WorkerInfo> workers)
    {
        int total = 0, noExecutor = 0, noFeatures = 0, noLabels = 0, draining = 0, suspect = 0, protocol = 0, full = 0, mostFree = 0;
        Dictionary<string, int>? missingFeatures = null;
        Dictionary<string, int>? missingLabels = null;
        foreach (var worker in workers)
        {
            total++;
            var record = worker.Record;
            if (!record.Executors.Contains(need.Executor))
            {
                noExecutor++;
                continue;
            }

            var lacks = false;
            foreach (var feature in need.Features)
            {
                if (!record.Features.Contains(feature))
                {
                    missingFeatures ??= new Dictionary<string, int>(StringComparer.Ordinal);
                    missingFeatures[feature] = missingFeatures.GetValueOrDefault(feature) + 1;
                    lacks = true;
                }
            }

            if (lacks)
            {
                noFeatures++;
                continue;
            }

            foreach (var (name, value) in need.Constraints)
            {
                if (!record.Labels.TryGetValue(name, out var actual) || actual != value)
                {
                    var label = name + "=" + value;
                    missingLabels ??= new Dictionary<string, int>(StringComparer.Ordinal);
                    missingLabels[label] = missingLabels.GetValueOrDefault(label) + 1;
                    lacks = true;
                }
            }

            if (lacks)
            {
                noLabels++;
            }
            else if (worker.Suspect)
            {
                suspect++;
            }
            else if (record.Draining || worker.DrainRequested)
            {
                draining++;
            }
            else if (!worker.Ready)
            {
                protocol++;
            }
            else if (worker.Free < need.Slots)
            {
                full++;
                mostFree = Math.Max(mostFree, Math.Max(0, worker.Free));
            }
        }

        return new UnplacedClass
        {
            Executor = need.Executor,
            Features = need.Features,
            Constraints = need.Constraints.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal),
            Slots = need.Slots,
            Jobs = jobs,
            Workers = total,
            WithoutExecutor = noExecutor,
            WithoutFeatures = noFeatures,
            MissingFeatures = missingFeatures,
            WithoutLabels = noLabels,
            MissingLabels = missingLabels,
            Draining = draining,
            Suspect = suspect,
            OtherProtocol = protocol,
            Full = full,
            MostFree = mostFree,
        };
    }

    private static (Dictionary<string, GroupHead> Heads, int Omitted) Heads(LeaderState state)
    {
        var waiting = state.WaitingGroups().ToList();
        var heads = new Dictionary<string, GroupHead>(StringComparer.Ordinal);
        if (waiting.Count == 0)
        {
            return (heads, 0);
        }

        waiting.Sort(static (a, b) => a.Pending != b.Pending ? b.Pending.CompareTo(a.Pending) : string.CompareOrdinal(a.Group, b.Group));
        var bytes = 0;
        var omitted = 0;
        foreach (var (group, head, pending) in waiting)
        {
            // The name as ContractJson writes it, the job id (32) and the fields around them.
            var size = JsonEncodedText.Encode(group).EncodedUtf8Bytes.Length + 80;
            if (heads.Count == QueueStatusRecord.MaxGroupHeads || bytes + size > QueueStatusRecord.MaxExplainBytes)
            {
                omitted++;
                continue;
            }

            bytes += size;
            heads[group] = new GroupHead { Job = head.Record.Id, Out = head.Record.State is JobState.Assigned or JobState.Running, Pending = pending };
        }

        return (heads, omitted);
    }
}
