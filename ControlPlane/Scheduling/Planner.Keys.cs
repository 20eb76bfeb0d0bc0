using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Concurrency limits per key (<see cref="JobConcurrency"/>, docs/jobs.md). The leader's state counts each key's jobs
/// out on workers; a class of queued jobs whose key has no room is set aside for the pass in one check, however many
/// jobs it holds. The placements of one key in a pass go into one write together with an update of the key's record
/// (<see cref="ConcurrencyRecord"/>) conditioned on the version this view holds: a placement that landed unseen (its
/// answer lost) has moved the record on, so this write is refused and replanned once the view shows the truth, and a
/// view in which the record is ahead of the jobs it counts (<see cref="LeaderState.KeySettled"/>) places nothing for
/// the key until it catches up. So at most <c>limit</c> jobs of a key are ever out, whatever failed or failed over.
/// </summary>
internal sealed partial class Planner
{
    /// <summary>Room left for a key's record in its placement write, beyond the placements: at most about 2.5 KiB (its
    /// key at most 200 characters, escaped to at most 6 bytes each, and up to 30 placements of about 40 bytes).</summary>
    private const int KeyRecordAllowance = 4096;

    /// <summary>
    /// Whether a job of <paramref name="cls"/> may be placed in this pass as far as its concurrency key goes; when not,
    /// says why in the plan (a full key, for <c>explain</c>) and the caller sets the class aside. O(1).
    /// </summary>
    private static bool KeyHasRoom(Pass p, JobQueue.JobClass cls, JobConcurrency concurrency, out KeyedPlacement? group)
    {
        var s = p.State;
        var recordKey = s.KeyRecordOf(concurrency.Key);
        if (p.Keyed.TryGetValue(recordKey, out group) && group.Key != concurrency.Key)
        {
            // Two keys with one hash (never seen with SHA-256): they share the record, so one write per pass for both.
            p.Plan.DueAt(p.Now);
            return false;
        }

        if (group is null && !s.KeySettled(recordKey))
        {
            // The record shows a placement this view does not hold yet: its count may be short. The job's change is
            // on its way (it wakes the loop); until then nothing of the key is placed.
            return false;
        }

        var @out = s.KeyOut(concurrency.Key) + (group?.Placements.Count ?? 0);
        if (@out >= concurrency.Limit)
        {
            p.Plan.HeldKeys.Add((concurrency.Key, concurrency.Limit, @out, cls.Jobs.Count));
            return false;
        }

        if (group is null)
        {
            group = new KeyedPlacement(concurrency.Key, recordKey, s.KeyRecords.GetValueOrDefault(recordKey));
            p.Keyed[recordKey] = group;
        }

        return true;
    }

    /// <summary>One write per key placed in this pass: its placements and the record's update, together.</summary>
    private static void WriteKeyed(Pass p)
    {
        foreach (var group in p.Keyed.Values)
        {
            if (group.Placements.Count == 0)
            {
                continue;
            }

            var first = group.Placements[0].Job.Record;
            var record = new ConcurrencyRecord
            {
                Key = group.Key,
                Job = first.Id,
                Attempt = first.Attempt,
                Placements = [.. group.Placements.Select(g => $"{g.Job.Record.Id}.{g.Job.Record.Attempt}")],
                Placed = group.Placements.Count,
                Epoch = p.Epoch,
                At = p.Now,
            };
            p.Plan.Add(Writes.PlaceKeyed(group.Key, group.RecordKey, group.Held, record, group.Placements));
        }
    }

    /// <summary>
    /// Judges changed concurrency records: one that no unfinished job needs any more is removed (conditioned on its
    /// version), so records follow the keys in use, not every key ever used. At most <see cref="MaxRemovalsPerPass"/>
    /// a pass; a record this view is not settled on waits. Cost: O(records judged).
    /// </summary>
    private static void ReconcileKeyRecords(Pass p, List<string> recordKeys)
    {
        var s = p.State;
        var removed = 0;
        foreach (var key in recordKeys)
        {
            if (!s.KeyRecords.TryGetValue(key, out var record) || s.KeyRecordNeeded(key))
            {
                continue;
            }

            if (removed >= MaxRemovalsPerPass)
            {
                p.DeferredKeyRecords.Add(key);
                p.Plan.DueAt(p.Now);
                continue;
            }

            if (!s.KeySettled(key))
            {
                p.DeferredKeyRecords.Add(key);
                continue;
            }

            removed++;
            p.Plan.Add(Writes.ForgetKey(record));
        }
    }

    /// <summary>The placements of one concurrency key in a pass (one write), bounded by a transaction's limits.</summary>
    private sealed class KeyedPlacement(string key, string recordKey, KeyRecordInfo? held)
    {
        public string Key { get; } = key;

        public string RecordKey { get; } = recordKey;

        /// <summary>The record as this view holds it (its version is the write's condition), or null: create it.</summary>
        public KeyRecordInfo? Held { get; } = held;

        public List<Placement> Placements { get; } = [];

        private int Bytes { get; set; }

        /// <summary>Whether <paramref name="placement"/> still fits the write (the first always does).</summary>
        public bool Fits(Placement placement) =>
            Placements.Count == 0
            || ((2 * (Placements.Count + 1)) + 1 <= PlanExecutor.MaxOperations
                && Bytes + placement.Bytes + KeyRecordAllowance <= PlanExecutor.MaxBytes);

        public void Add(Placement placement)
        {
            Placements.Add(placement);
            Bytes += placement.Bytes;
        }
    }
}
