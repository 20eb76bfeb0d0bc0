using ControlPlane.Contracts;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Api;

namespace ControlPlane.Director.Doctor;

/// <summary>The record checks: assignments against their jobs and workers, jobs against their assignments, old
/// pending jobs by reason, and the retention backlog.</summary>
internal sealed partial class ClusterDoctor
{
    private async Task<List<DoctorCheck>> RecordsAsync(
        ICoordinationStore store, List<(StoreItem Item, WorkerRecord? Record)> workers, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Every attempt in flight: one subtree load (etcd has no directory keys to walk; ZooKeeper's are skipped).
        Dictionary<string, StoreItem> assignments;
        await using (var cache = NewCache(store, StoreLayout.Assignments))
        {
            await cache.StartAsync(cancellationToken);
            assignments = cache.Items.Values
                .Where(i => i.Key.Count(c => c == '/') == 2 && i.Value.Length > 0)
                .ToDictionary(i => i.Key, StringComparer.Ordinal);
        }

        var sessions = workers.ToDictionary(w => StoreReads.Name(w.Item), w => w.Item.Owner, StringComparer.Ordinal);
        var orphans = new List<string>();
        foreach (var (key, item) in assignments)
        {
            if (await WhyOrphanAsync(store, key, item, sessions, cancellationToken) is { } why)
            {
                orphans.Add($"{key}: {why}");
            }
        }

        var scan = await ScanJobsAsync(store, cancellationToken);
        var missing = new List<string>();
        foreach (var job in scan.Out)
        {
            var key = StoreLayout.Assignment(job.WorkerId!, job.Id, job.Attempt);
            if (!assignments.ContainsKey(key) && await StillMissingAsync(store, job, key, cancellationToken))
            {
                missing.Add($"job {job.Id} is {job.State} on worker {job.WorkerId} (attempt {job.Attempt}), but {key} does not exist");
            }
        }

        var partial = scan.Truncated ? $" (only the first {scan.Read} job records were read: Doctor:MaxJobsScanned)" : "";
        return
        [
            Problems("assignments", orphans, $"{DoctorVerdicts.Plural(assignments.Count, "assignment")} in flight, {orphans.Count} without their job or their worker's session",
                "A leader withdraws an assignment whose job moved on or is gone at once, and takes back one whose worker session ended as soon as it sees it: if these stay, no leader is scheduling (cpctl leader; its log, events 763/764). Deleting such an assignment by hand is safe (docs/operations.md, repair)."),
            Problems("assigned-jobs", missing, $"{DoctorVerdicts.Plural(scan.Out.Count, "job")} Assigned or Running, {missing.Count} without their assignment{partial}",
                "The leader returns such a job to Pending (attempt + 1) once Scheduler:StartTimeout has passed since it noticed: if it stays, no leader is scheduling (cpctl leader)."),
            Pending(scan, now, partial),
            Retention(scan, now, partial),
        ];
    }

    /// <summary>Why the assignment at <paramref name="key"/> has no right to exist, confirmed by a second read (the
    /// leader may have finished it meanwhile); null when it is sound.</summary>
    private static async Task<string?> WhyOrphanAsync(ICoordinationStore store, string key, StoreItem item, Dictionary<string, long> sessions, CancellationToken cancellationToken)
    {
        var worker = StoreKeys.Name(StoreKeys.Parent(key)!);
        if (!StoreLayout.TryParseAssignmentName(StoreKeys.Name(key), out var jobId, out var attempt))
        {
            return "it is not named <jobId>.<attempt>";
        }

        var record = StoreReads.TryParse<AssignmentRecord>(item);
        var job = StoreReads.TryParse<JobRecord>(await store.GetAsync(StoreLayout.Job(jobId), cancellationToken));
        string? why = job switch
        {
            null => $"its job {jobId} does not exist",
            { State: not (JobState.Assigned or JobState.Running) } => $"its job is {job.State}",
            _ when job.WorkerId != worker || job.Attempt != attempt => $"its job moved on to attempt {job.Attempt} on {job.WorkerId}",
            _ when !sessions.TryGetValue(worker, out var session) => $"worker {worker} is not registered (its session is gone)",
            _ when record is not null && record.WorkerSession != sessions[worker] => $"it was made for session {record.WorkerSession:x} of {worker}, which now runs session {sessions[worker]:x}",
            _ => null,
        };

        // Confirmed only if the assignment is still there unchanged: the leader may have just finished or withdrawn it.
        return why is not null && await store.GetAsync(key, cancellationToken) is { } again && again.ModRevision == item.ModRevision ? why : null;
    }

    private static async Task<bool> StillMissingAsync(ICoordinationStore store, JobRecord job, string key, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(key, cancellationToken) is not null)
        {
            return false; // assigned after the assignments were read
        }

        var again = StoreReads.TryParse<JobRecord>(await store.GetAsync(StoreLayout.Job(job.Id), cancellationToken));
        return again is { State: JobState.Assigned or JobState.Running } && again.WorkerId == job.WorkerId && again.Attempt == job.Attempt;
    }

    private DoctorCheck Pending(JobScan scan, DateTimeOffset now, string partial)
    {
        var old = scan.Pending.Where(j => now - j.CreatedAt > _options.PendingWarnAfter).ToList();
        var status = queueStatus.Current;
        var details = old
            .Select(j => (Job: j, Reason: JobExplainer.Explain(new ExplainInputs(j, 0, Status: status, Now: now), admission.Value).Reasons.FirstOrDefault()))
            .GroupBy(x => x.Reason?.Code ?? "unknown")
            .OrderByDescending(g => g.Count())
            .Select(g => $"{g.Count()} {g.Key}: e.g. job {g.First().Job.Id}: {g.First().Reason?.Message}")
            .ToList();
        var summary = $"{DoctorVerdicts.Plural(scan.Pending.Count, "job")} Pending, {old.Count} submitted more than {_options.PendingWarnAfter.TotalMinutes:0.#} min ago{partial}";
        return DoctorVerdicts.Verdict("pending", summary, [], old.Count > 0 ? [$"{old.Count} waiting long"] : [], details,
            "Each group above names why its jobs wait (cpctl explain <id>): add workers with the executor, features or labels named, free slots, or cancel what should not run.");
    }

    private DoctorCheck Retention(JobScan scan, DateTimeOffset now, string partial)
    {
        // A leader removes up to 500 expired jobs a pass; one still there ten minutes past its expiry is a backlog.
        var overdue = scan.Finished.Count(j => j.FinishedAt is { } at && now - at > _scheduler.Retention + TimeSpan.FromMinutes(10));
        var summary = $"{DoctorVerdicts.Plural(scan.Finished.Count, "finished job")} kept, {overdue} more than 10 min past Scheduler:Retention ({_scheduler.Retention.TotalHours:0.#} h){partial}";
        return DoctorVerdicts.Verdict("retention", summary, [], overdue > 0 ? [$"{overdue} overdue for removal"] : [], [],
            "The leader removes expired jobs (500 a pass): if they pile up, no leader is scheduling or its removals fail (its log).");
    }

    private async Task<JobScan> ScanJobsAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        var scan = new JobScan();
        for (var bucket = 0; bucket < 256 && !scan.Truncated; bucket++)
        {
            string? after = null;
            do
            {
                var page = await store.ListAsync(StoreLayout.JobBucket(bucket), new ListOptions(1000, after), cancellationToken);
                foreach (var item in page.Items)
                {
                    if (scan.Read >= _options.MaxJobsScanned)
                    {
                        scan.Truncated = true;
                        break;
                    }

                    scan.Read++;
                    if (StoreReads.TryParse<JobRecord>(item) is not { } job)
                    {
                        continue;
                    }

                    if (job.State is JobState.Assigned or JobState.Running && job.WorkerId is { } worker && JobSpecValidator.IsName(worker))
                    {
                        scan.Out.Add(job);
                    }
                    else if (job.State == JobState.Pending)
                    {
                        scan.Pending.Add(job);
                    }
                    else if (job.State.IsTerminal())
                    {
                        scan.Finished.Add(job);
                    }
                }

                after = page.Next;
            }
            while (after is not null && !scan.Truncated);
        }

        return scan;
    }

    private static DoctorCheck Problems(string name, List<string> problems, string summary, string action) =>
        new(name, problems.Count > 0 ? CheckStatus.Fail : CheckStatus.Ok, summary, problems.Count > 0 ? action : null, problems.Count > 0 ? problems.Take(20).ToList() : null);

    /// <summary>What the bounded scan of job records found.</summary>
    private sealed class JobScan
    {
        public int Read { get; set; }

        public bool Truncated { get; set; }

        public List<JobRecord> Out { get; } = [];

        public List<JobRecord> Pending { get; } = [];

        public List<JobRecord> Finished { get; } = [];
    }
}
