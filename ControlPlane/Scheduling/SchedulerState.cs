using System.Collections.Immutable;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Turns the leader's caches into a <see cref="SchedulerSnapshot"/>: parses records once per version, quarantines
/// records it cannot read (logged once, left in place, never a crash), and remembers on the leader's own clock when
/// it first saw each assignment and each change to it. Those observations are what start timeouts, job timeouts and
/// suspicion are measured from, so clock skew between machines never enters; a new leader starts observing afresh,
/// which only ever delays such decisions.
/// </summary>
internal sealed class SchedulerState
{
    private readonly ILogger _logger;
    private readonly Dictionary<string, (long ModRevision, JobInfo? Job)> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Observation> _assignments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _missing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _quarantined = new(StringComparer.Ordinal);

    public SchedulerState(ILogger logger) => _logger = logger;

    public SchedulerSnapshot Build(
        ImmutableSortedDictionary<string, StoreItem> workers,
        ImmutableSortedDictionary<string, StoreItem> drains,
        ImmutableSortedDictionary<string, StoreItem> suspects,
        ImmutableSortedDictionary<string, StoreItem> assignments,
        ImmutableSortedDictionary<string, StoreItem> jobs,
        long epoch,
        DateTimeOffset now)
    {
        var drainSet = Names(drains, StoreLayout.Drains);
        var suspectSet = Names(suspects, StoreLayout.Suspects);
        var workerMap = new Dictionary<string, WorkerInfo>(StringComparer.Ordinal);
        foreach (var (key, item) in workers)
        {
            if (StoreKeys.Parent(key) != StoreLayout.Workers || !item.IsEphemeral)
            {
                continue;
            }

            var id = StoreKeys.Name(key);
            if (TryParse<WorkerRecord>(item) is { } record)
            {
                workerMap[id] = new WorkerInfo(id, record, item.Owner, drainSet.Contains(id), suspectSet.Contains(id));
            }
        }

        var jobMap = ParseJobs(jobs);
        var assignmentList = ObserveAssignments(assignments, now);
        TrackMissingAssignments(jobMap, assignmentList, now);
        return new SchedulerSnapshot
        {
            Workers = workerMap,
            Suspects = suspectSet,
            Jobs = jobMap,
            Assignments = assignmentList,
            MissingAssignmentSince = new Dictionary<string, DateTimeOffset>(_missing, StringComparer.Ordinal),
            Epoch = epoch,
            Now = now,
        };
    }

    private Dictionary<string, JobInfo> ParseJobs(ImmutableSortedDictionary<string, StoreItem> jobs)
    {
        var result = new Dictionary<string, JobInfo>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, item) in jobs)
        {
            seen.Add(key);
            if (!_jobs.TryGetValue(key, out var cached) || cached.ModRevision != item.ModRevision)
            {
                var record = TryParse<JobRecord>(item);
                if (record is not null && (!JobIds.IsValid(record.Id) || StoreLayout.Job(record.Id) != key))
                {
                    Quarantine(key, "its id does not match its key");
                    record = null;
                }

                cached = (item.ModRevision, record is null ? null : new JobInfo(key, record, item.Version, item.CreateRevision, item.Value.Length));
                _jobs[key] = cached;
            }

            if (cached.Job is { } job)
            {
                result[job.Record.Id] = job;
            }
        }

        Forget(_jobs, seen);
        return result;
    }

    private List<AssignmentInfo> ObserveAssignments(ImmutableSortedDictionary<string, StoreItem> assignments, DateTimeOffset now)
    {
        var list = new List<AssignmentInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, item) in assignments)
        {
            var parent = StoreKeys.Parent(key);
            if (parent is null || StoreKeys.Parent(parent) != StoreLayout.Assignments
                || !StoreLayout.TryParseAssignmentName(StoreKeys.Name(key), out var jobId, out var attempt))
            {
                Quarantine(key, "it is not named assignments/<worker>/<job>.<attempt>");
                continue;
            }

            seen.Add(key);
            if (!_assignments.TryGetValue(key, out var seenBefore) || seenBefore.ModRevision != item.ModRevision)
            {
                var record = TryParse<AssignmentRecord>(item);
                if (record is not null && (record.JobId != jobId || record.Attempt != attempt))
                {
                    Quarantine(key, "its job or attempt does not match its key");
                    record = null;
                }

                var running = seenBefore?.RunningSince ?? (record?.State == AttemptState.Running ? now : null);
                seenBefore = new Observation(item.ModRevision, record, seenBefore?.FirstSeen ?? now, now, running);
                _assignments[key] = seenBefore;
            }

            list.Add(new AssignmentInfo(key, StoreKeys.Name(parent), jobId, attempt, seenBefore.Record, item.Version,
                seenBefore.FirstSeen, seenBefore.LastChanged, seenBefore.RunningSince));
        }

        Forget(_assignments, seen);
        return list;
    }

    private void TrackMissingAssignments(Dictionary<string, JobInfo> jobs, List<AssignmentInfo> assignments, DateTimeOffset now)
    {
        var present = new HashSet<(string, int)>(assignments.Select(a => (a.JobId, a.Attempt)));
        var missing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs.Values)
        {
            if (job.Record.State is JobState.Assigned or JobState.Running && !present.Contains((job.Record.Id, job.Record.Attempt)))
            {
                missing.Add(job.Record.Id);
                _missing.TryAdd(job.Record.Id, now);
            }
        }

        Forget(_missing, missing);
    }

    private T? TryParse<T>(StoreItem item)
        where T : class
    {
        try
        {
            return ContractJson.Deserialize<T>(item.Value.Span);
        }
        catch (JsonException e)
        {
            Quarantine(item.Key, e.Message);
            return null;
        }
    }

    private void Quarantine(string key, string reason)
    {
        if (_quarantined.Add(key))
        {
            SchedulerLog.RecordQuarantined(_logger, key, reason);
        }
    }

    private static HashSet<string> Names(ImmutableSortedDictionary<string, StoreItem> items, string parent) =>
        new(items.Keys.Where(k => StoreKeys.Parent(k) == parent).Select(StoreKeys.Name), StringComparer.Ordinal);

    private static void Forget<TValue>(Dictionary<string, TValue> map, HashSet<string> keep)
    {
        if (map.Count == keep.Count)
        {
            return;
        }

        foreach (var key in map.Keys.Where(k => !keep.Contains(k)).ToList())
        {
            map.Remove(key);
        }
    }

    private sealed record Observation(long ModRevision, AssignmentRecord? Record, DateTimeOffset FirstSeen, DateTimeOffset LastChanged, DateTimeOffset? RunningSince);
}
