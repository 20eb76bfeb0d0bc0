using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Doctor;

/// <summary>
/// <c>GET /v1/doctor</c> on any director: reads the store through the coordination layer and judges the cluster
/// check by check (OK / WARN / FAIL, each problem with what to do). Splits over partial files: the leader, members and
/// workers here, the records (assignments, jobs) in <c>ClusterDoctor.Records.cs</c>.
/// </summary>
/// <remarks>
/// Cost per run, for an operator's command rather than a hot path: a few small listings (election, directors,
/// workers, drains, suspects; per cell its candidates, workers and queue status, and the cell policies), the assignments subtree (one entry per attempt in flight), the job records up to
/// <see cref="DoctorOptions.MaxJobsScanned"/> (256 buckets, paged), one re-read per suspected problem (to rule out a
/// race with the leader), and the store's health (etcd: member list, one status per member, one watch; ZooKeeper:
/// one <c>srvr</c> per member, one <c>exists</c> per counted parent, 520 pipelined). Nothing is asked of the leader.
/// </remarks>
internal sealed partial class ClusterDoctor(
    StoreConnection connection, DirectorIdentity director, QueueStatusWatcher queueStatus, CellQueries cells, IOptions<DoctorOptions> options,
    IOptions<SchedulerOptions> scheduler, IOptions<AdmissionOptions> admission, ILoggerFactory loggerFactory, TimeProvider time)
{
    private readonly DoctorOptions _options = options.Value;
    private readonly SchedulerOptions _scheduler = scheduler.Value;

    /// <summary>Runs every check.</summary>
    public async Task<DoctorReport> RunAsync(CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var revision = await store.SyncAsync(store.Backend == StoreBackend.ZooKeeper ? store.SeenRevision + 1 : 0, cancellationToken);
        var now = time.GetUtcNow();
        var candidates = await StoreReads.ListAllAsync(store, StoreLayout.Election, cancellationToken);
        var directors = (await StoreReads.ListAllAsync(store, StoreLayout.Directors, cancellationToken)).Select(i => StoreReads.TryParse<DirectorRecord>(i) ?? new DirectorRecord { Id = StoreReads.Name(i) }).ToList();
        var workers = await StoreReads.ListAllAsync(store, StoreLayout.Workers, cancellationToken);
        var drains = await StoreReads.ListAllAsync(store, StoreLayout.Drains, cancellationToken);
        var suspects = await StoreReads.ListAllAsync(store, StoreLayout.Suspects, cancellationToken);
        var workerRecords = workers.Select(i => (Item: i, Record: StoreReads.TryParse<WorkerRecord>(i))).ToList();

        var checks = new List<DoctorCheck>
        {
            Leader(candidates),
            DoctorVerdicts.Cells(await cells.ListAsync(cancellationToken)),
            await StoreAsync(store, cancellationToken),
            DoctorVerdicts.Timing(FailoverBudget.ForSession(store.Backend, store.Session, new LeaderElectionOptions().EffectiveMargin(store.Session.Timeout), new LeaderElectionOptions().RetryDelay), _scheduler),
            DoctorVerdicts.Versions(directors, workerRecords.Where(w => w.Record is not null).Select(w => (StoreReads.Name(w.Item), w.Record!.Version, w.Record.ProtocolVersion))),
            Workers(workerRecords, drains, suspects, now),
        };
        checks.AddRange(await RecordsAsync(store, workerRecords, now, cancellationToken));
        var status = checks.Max(c => c.Status);
        return new DoctorReport(status, checks, director.Id, now, revision);
    }

    private static DoctorCheck Leader(List<StoreItem> candidates)
    {
        var prefix = StoreLayout.Election + "/";
        var real = candidates.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal) && c.Key.IndexOf('/', prefix.Length) < 0).OrderBy(c => c.CreateRevision).ToList();
        if (real.Count == 0)
        {
            return new DoctorCheck("leader", CheckStatus.Fail, "no director leads: no candidate is registered, so nothing is scheduled (submissions are still accepted)",
                "Start a director with Director:Campaign=true (the default), or find why the running ones cannot reach the store (their logs; cpctl cluster).");
        }

        var leader = real[0];
        var record = StoreReads.TryParse<DirectorRecord>(leader);
        return new DoctorCheck("leader", CheckStatus.Ok,
            $"exactly one leader: {record?.Id ?? StoreReads.Name(leader)} (epoch {leader.CreateRevision}), {DoctorVerdicts.Plural(real.Count, "candidate")} in the election",
            null, [.. real.Select((c, i) => $"{(i == 0 ? "leader" : "candidate")} {StoreReads.TryParse<DirectorRecord>(c)?.Id ?? StoreReads.Name(c)} epoch {c.CreateRevision}")]);
    }

    private async Task<DoctorCheck> StoreAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        if (store is not IStoreHealth health)
        {
            return new DoctorCheck("store", CheckStatus.Warn, "this store does not report its health", "Check the store with its own tools (docs/operations.md).");
        }

        List<string> parents = [StoreLayout.Workers, StoreLayout.Assignments, StoreLayout.Drains, StoreLayout.Suspects, StoreLayout.Election, StoreLayout.Directors, StoreLayout.Jobs, StoreLayout.Idempotency];
        for (var b = 0; b < 256; b++)
        {
            parents.Add(StoreLayout.JobBucket(b));
            parents.Add($"{StoreLayout.Idempotency}/{b:x2}");
        }

        try
        {
            return DoctorVerdicts.Store(store.Backend, await health.ReadHealthAsync(parents, cancellationToken), NameBytes, _options);
        }
        catch (StoreException e)
        {
            return new DoctorCheck("store", CheckStatus.Fail, $"the store's health could not be read: {e.Message}", "Check the store members and this director's connection (cpctl cluster).");
        }
    }

    /// <summary>Bytes a child name takes in a ZooKeeper listing (4-byte length plus the name), by what the parent holds.</summary>
    private static int NameBytes(string parent) =>
        parent.StartsWith(StoreLayout.Jobs + "/", StringComparison.Ordinal) ? 4 + Contracts.Jobs.JobIds.Length
        : parent.StartsWith(StoreLayout.Idempotency + "/", StringComparison.Ordinal) ? 4 + 64
        : parent is StoreLayout.Jobs or StoreLayout.Idempotency ? 4 + 2
        : parent == StoreLayout.Election ? 4 + 34
        : 4 + 64; // worker and director ids: up to 200 characters, 64 is a generous typical length

    private DoctorCheck Workers(List<(StoreItem Item, WorkerRecord? Record)> workers, List<StoreItem> drains, List<StoreItem> suspects, DateTimeOffset now)
    {
        var warns = new List<string>();
        var details = new List<string>();
        var registered = workers.Select(w => StoreReads.Name(w.Item)).ToHashSet(StringComparer.Ordinal);
        if (workers.Count == 0)
        {
            warns.Add("no worker is registered: no job can run");
        }

        foreach (var s in suspects)
        {
            var id = StoreReads.Name(s);
            var record = StoreReads.TryParse<SuspectRecord>(s);
            warns.Add($"worker {id} is suspect since {record?.Since:u}: {record?.Reason ?? "no reason recorded"}");
        }

        foreach (var d in drains)
        {
            var id = StoreReads.Name(d);
            var record = StoreReads.TryParse<DrainRecord>(d);
            if (!registered.Contains(id))
            {
                warns.Add($"a drain request for {id} is left behind (no such worker is registered): it drains the next agent with that id at once");
            }
            else if (record is not null && now - record.RequestedAt > _options.DrainWarnAfter)
            {
                warns.Add($"worker {id} has been draining since {record.RequestedAt:u} (more than {_options.DrainWarnAfter.TotalMinutes:0} min)");
            }
        }

        var unreadable = workers.Count(w => w.Record is null);
        if (unreadable > 0)
        {
            warns.Add($"{DoctorVerdicts.Plural(unreadable, "worker registration")} cannot be read");
        }

        var slots = workers.Where(w => w.Record is not null).Sum(w => w.Record!.Slots);
        var used = workers.Where(w => w.Record?.SlotsUsed is not null).Sum(w => w.Record!.SlotsUsed!.Value);
        details.AddRange(workers.Where(w => w.Record is not null).Take(20).Select(w => $"{StoreReads.Name(w.Item)}: {w.Record!.SlotsUsed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}/{w.Record.Slots} slots, version {w.Record.Version}"));
        return DoctorVerdicts.Verdict("workers", $"{DoctorVerdicts.Plural(workers.Count, "worker")} registered, {used}/{slots} slots in use (as reported)", [], warns, details,
            "A suspect worker's running jobs stopped reporting: restart or kill its agent (docs/operations.md, a stuck job). A long drain waits for its jobs (Agent drain timeout); delete a drain request left behind before restarting that agent.");
    }


    private WatchCache NewCache(ICoordinationStore store, string prefix) =>
        new(store, prefix, loggerFactory.CreateLogger<WatchCache>(), time);
}
