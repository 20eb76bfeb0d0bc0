using System.Globalization;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Coordination;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Doctor;

/// <summary>
/// The doctor's judgements that need no store: the store's own health, the timing budget and version skew, as pure
/// functions of what was read, so each verdict has a unit test.
/// </summary>
internal static class DoctorVerdicts
{
    /// <summary>ZooKeeper refuses a packet (a listing among them) above 1 MiB (<c>jute.maxbuffer</c>).</summary>
    public const int PacketLimit = 1024 * 1024;

    /// <summary>The store's members, leader and load; on etcd its size against the quota and its compaction.</summary>
    /// <param name="backend">The store.</param>
    /// <param name="health">What it said about itself.</param>
    /// <param name="nameBytes">Estimated bytes of one child name in a listing of each counted parent (ZooKeeper).</param>
    /// <param name="options">Thresholds.</param>
    public static DoctorCheck Store(StoreBackend backend, StoreHealth health, Func<string, int> nameBytes, DoctorOptions options)
    {
        var fails = new List<string>();
        var warns = new List<string>();
        var details = new List<string>();
        var n = health.Members.Count;
        var reachable = health.Members.Count(m => m.Reachable);
        var leaders = health.Members.Where(m => m.Role is "leader" or "standalone").ToList();
        foreach (var m in health.Members)
        {
            var role = m.Role ?? (m.Reachable ? "role unknown" : "unreachable");
            var queued = m.OutstandingRequests is { } o ? $", {o} outstanding requests" : "";
            details.Add($"{m.Name} {m.Endpoint ?? "-"}: {role}{queued}{(m.Error is null ? "" : " (" + m.Error + ")")}");
            if (m.OutstandingRequests > 1000)
            {
                warns.Add($"{m.Name} has {m.OutstandingRequests} outstanding requests (overloaded: the leader's writes and sessions queue behind them)");
            }
        }

        if (reachable * 2 <= n)
        {
            fails.Add($"only {reachable} of {n} members answer: no quorum");
        }
        else if (reachable < n)
        {
            warns.Add($"{n - reachable} of {n} members do not answer: one more failure may cost the quorum");
        }

        if (reachable > 0 && leaders.Count == 0 && health.Members.Any(m => m.Role is not null))
        {
            fails.Add("no member reports itself leader");
        }

        if (n > 0 && n % 2 == 0)
        {
            warns.Add($"{n} members: an even count tolerates no more failures than {n - 1} and needs a larger quorum; run 3 or 5");
        }

        if (health.DbSizeBytes is { } size)
        {
            var share = (double)size / options.EtcdQuotaBytes;
            details.Add(string.Create(CultureInfo.InvariantCulture, $"database {Mib(size)} ({share:P0} of the {Mib(options.EtcdQuotaBytes)} quota, Doctor:EtcdQuotaBytes), {Mib(health.DbSizeInUseBytes ?? size)} in use"));
            if (share >= 0.95)
            {
                fails.Add(string.Create(CultureInfo.InvariantCulture, $"the database is at {share:P0} of its quota"));
            }
            else if (share >= 0.8)
            {
                warns.Add(string.Create(CultureInfo.InvariantCulture, $"the database is at {share:P0} of its quota"));
            }
        }

        foreach (var alarm in health.Alarms)
        {
            fails.Add($"alarm raised: {alarm}");
        }

        if (health.CompactRevision is { } compacted)
        {
            details.Add(compacted == 0
                ? $"never compacted (revision {health.Revision})"
                : $"compacted at revision {compacted}, {health.Revision - compacted} revisions since");
            if (compacted == 0 && health.DbSizeBytes is { } db && db >= options.EtcdQuotaBytes / 2)
            {
                warns.Add("history was never compacted and the database is over half its quota");
            }
        }

        if (health.ChildCounts is { Count: > 0 } counts)
        {
            var largest = counts.Select(c => (Parent: c.Key, Count: c.Value, Bytes: (long)c.Value * nameBytes(c.Key)))
                .OrderByDescending(c => c.Bytes).ThenBy(c => c.Parent, StringComparer.Ordinal).First();
            var share = (double)largest.Bytes / PacketLimit;
            details.Add(string.Create(CultureInfo.InvariantCulture, $"largest child list: {largest.Parent} with {largest.Count} children, about {largest.Bytes / 1024} KiB ({share:P0} of the 1 MiB packet limit)"));
            if (share >= 0.9)
            {
                fails.Add($"listing {largest.Parent} is about to exceed the 1 MiB packet limit");
            }
            else if (share >= 0.5)
            {
                warns.Add($"listing {largest.Parent} takes half the 1 MiB packet limit");
            }
        }

        details.AddRange(health.Notes);
        var summary = $"{backend.ToString().ToLowerInvariant()}: {reachable} of {Plural(n, "member")} answer, leader {leaders.FirstOrDefault()?.Name ?? "unknown"}";
        return Verdict("store", summary, fails, warns, details,
            "Restore the missing members (a majority must answer); run an odd number (3 or 5); on etcd compact and defragment, or raise --quota-backend-bytes (and Doctor:EtcdQuotaBytes), before the quota is reached.");
    }

    /// <summary>The timing budget of this director's session, and the scheduler's timeouts against it.</summary>
    public static DoctorCheck Timing(FailoverBudget budget, SchedulerOptions scheduler)
    {
        var warns = new List<string>(budget.Warnings);
        var granted = budget.Timings.GrantedSessionTimeout;
        if (scheduler.StartTimeout <= granted)
        {
            warns.Add($"Scheduler:StartTimeout ({Seconds(scheduler.StartTimeout)}) is not above the session timeout ({Seconds(granted)}): an agent whose connection stalls briefly loses attempts it would have started; raise it");
        }

        if (scheduler.WatchdogTimeout <= granted)
        {
            warns.Add($"Scheduler:WatchdogTimeout ({Seconds(scheduler.WatchdogTimeout)}) is not above the session timeout ({Seconds(granted)}): a leader stalled by a slow store resigns before the store itself would notice anything");
        }

        var summary = $"session timeout {Seconds(granted)} (requested {Seconds(budget.Timings.RequestedSessionTimeout)}), " +
            $"heartbeat {Seconds(budget.Timings.HeartbeatInterval)}, safety margin {Seconds(budget.Timings.SafetyMargin)}: worst-case failover {Seconds(budget.WorstCaseFailover)}";
        return Verdict("timing", summary, [.. budget.Errors], warns, [],
            "Change Store:SessionTimeout or the store's session bounds (ZooKeeper min/maxSessionTimeout, 2 and 20 × tickTime by default) so that the granted timeout is the one asked for (docs/operations.md, the failover budget).");
    }

    /// <summary>Cells (docs/cells.md): a named cell without a leader fails (nothing is scheduled there), and so does the
    /// default cell when its policy is why it has none (the leader check covers it otherwise); a named cell without a
    /// worker warns (jobs named to it wait).</summary>
    public static DoctorCheck Cells(IReadOnlyList<CellView> cells)
    {
        var fails = new List<string>();
        var warns = new List<string>();
        foreach (var cell in cells)
        {
            if (cell.Leader is null && (cell.Cell != Contracts.Cells.Default || cell.AllowedVersions is not null))
            {
                fails.Add($"cell {cell.Cell} has no leader: {cell.Waiting ?? "no candidate"}");
            }

            if (cell.Cell != Contracts.Cells.Default && cell.Workers == 0)
            {
                warns.Add($"cell {cell.Cell} has no worker: jobs named to it wait");
            }
        }

        var pinned = cells.Count(c => c.AllowedVersions is not null);
        var summary = cells.Count == 1 && pinned == 0
            ? "one cell (default)"
            : $"{Plural(cells.Count, "cell")}, {cells.Count(c => c.Leader is not null)} with a leader, {pinned} pinned to director versions";
        var details = cells.Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Cell}: leader {c.Leader ?? "none"}{(c.Epoch is { } e ? $" epoch {e}" : "")}, {Plural(c.Workers, "worker")}, {(c.Pending is { } p ? $"{p} pending" : "pending unknown")}, versions {(c.AllowedVersions is { } v ? string.Join(",", v) : "any")}")).ToList();
        return Verdict("cells", summary, fails, warns, cells.Count > 1 || pinned > 0 ? details : [],
            "For a cell without a leader, start a director of a version its policy allows or change the policy (cpctl cell list says why each waits; cpctl cell pin|unpin); for a cell without workers, start agents with Agent:Cell=<cell> (docs/cells.md).");
    }

    /// <summary>Versions of every live director and agent: more than one is skew (fine during a rolling upgrade).</summary>
    public static DoctorCheck Versions(IEnumerable<DirectorRecord> directors, IEnumerable<(string Id, string Version, int Protocol)> workers)
    {
        var seen = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var d in directors)
        {
            Add(Normalize(d.Version), "director " + d.Id);
        }

        var warns = new List<string>();
        foreach (var (id, version, protocol) in workers)
        {
            Add(Normalize(version), "agent " + id);
            if (protocol is < Contracts.Protocol.MinProtocolVersion or > Contracts.Protocol.Version)
            {
                warns.Add($"agent {id} speaks protocol {protocol}; this director serves {Contracts.Protocol.MinProtocolVersion}–{Contracts.Protocol.Version}: it gets no work");
            }
        }

        if (seen.Count > 1)
        {
            warns.Insert(0, $"{seen.Count} versions run side by side");
        }

        var details = seen.Select(v => $"{v.Key}: {string.Join(", ", v.Value.Take(10))}{(v.Value.Count > 10 ? $" and {v.Value.Count - 10} more" : "")}").ToList();
        var summary = seen.Count switch
        {
            0 => "no director or agent registered",
            1 => $"every director and agent runs {seen.Keys.First()}",
            _ => $"{seen.Count} versions: {string.Join(", ", seen.Select(v => $"{v.Key} ({v.Value.Count})"))}",
        };
        return Verdict("versions", summary, [], warns, details,
            "Finish the rolling upgrade (docs/operations.md, upgrades): directors first, then agents; a version left behind is named above.");

        void Add(string version, string who)
        {
            if (!seen.TryGetValue(version, out var list))
            {
                list = [];
                seen[version] = list;
            }

            list.Add(who);
        }
    }

    /// <summary>A version as comparable text: the informational suffix (<c>+sha</c>) dropped and trailing <c>.0</c>
    /// parts of a four-part assembly version trimmed, so a director's <c>0.1.0.0</c> and an agent's <c>0.1.0</c> agree.</summary>
    public static string Normalize(string? version)
    {
        var text = (version ?? "").Split('+')[0].Trim();
        if (text.Length == 0)
        {
            return "unknown";
        }

        return System.Version.TryParse(text, out var parsed)
            ? new System.Version(parsed.Major, parsed.Minor, Math.Max(parsed.Build, 0)).ToString()
            : text;
    }

    /// <summary>A check from its failures and warnings: FAIL if any failure, WARN if any warning, else OK.</summary>
    public static DoctorCheck Verdict(string name, string summary, List<string> fails, List<string> warns, List<string> details, string action)
    {
        var status = fails.Count > 0 ? CheckStatus.Fail : warns.Count > 0 ? CheckStatus.Warn : CheckStatus.Ok;
        var problems = fails.Concat(warns).ToList();
        return new DoctorCheck(
            name,
            status,
            problems.Count > 0 ? summary + "; " + string.Join("; ", problems) : summary,
            status == CheckStatus.Ok ? null : action,
            details.Count > 0 ? details.Take(20).ToList() : null);
    }

    /// <summary>"1 worker", "3 workers".</summary>
    public static string Plural(long count, string one) => string.Create(CultureInfo.InvariantCulture, $"{count} {one}{(count == 1 ? "" : "s")}");

    private static string Seconds(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.###} s");

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB");
}
