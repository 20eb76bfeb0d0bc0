using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Scheduling;

/// <summary>What the leader observed about one worker incarnation on its own clock (docs/operations.md, "Failure
/// detection"). Reset when the worker registers under a new session.</summary>
/// <param name="session">The incarnation observed.</param>
internal sealed class WorkerHealth(long session)
{
    /// <summary>The incarnation these observations are of.</summary>
    public long Session { get; } = session;

    /// <summary>Its registration beats (feature <c>workerHeartbeat</c>); null for a worker that does not beat.</summary>
    public PhiAccrual? Beats { get; set; }

    /// <summary>When this leader last saw one of its attempts start (an assignment of this incarnation first seen
    /// Running).</summary>
    public DateTimeOffset? LastStart { get; set; }

    /// <summary>When this leader last took back an assignment it left unstarted while suspect (a failed probe).</summary>
    public DateTimeOffset? ProbeFailed { get; set; }

    /// <summary>The registration write (creation revision, version) this leader saw last, and when (its clock): where
    /// the beat fence's wait starts (feature <c>beatFence</c>).</summary>
    public (long CreateRevision, long Version, DateTimeOffset Seen) Registration { get; set; }
}

/// <summary>A suspect marker as the leader saw it: its record (null when unreadable) and when, on its own clock.</summary>
/// <param name="Record">The marker's record.</param>
/// <param name="Seen">When this leader first saw it.</param>
internal sealed record SuspectMark(SuspectRecord? Record, DateTimeOffset Seen);

internal sealed partial class LeaderState
{
    private readonly int[] _workerStates = new int[Enum.GetValues<WorkerState>().Length];

    /// <summary>Gaps between beats the phi detector keeps per worker (<see cref="SchedulerOptions.BeatWindow"/>).</summary>
    public int BeatWindow { get; init; } = 32;

    /// <summary>Per live worker: its beats, its last start, its probes.</summary>
    public Dictionary<string, WorkerHealth> Health { get; } = new(StringComparer.Ordinal);

    /// <summary>Suspect markers by worker id, with when this leader first saw each.</summary>
    public Dictionary<string, SuspectMark> SuspectMarks { get; } = new(StringComparer.Ordinal);

    /// <summary>Live workers per <see cref="WorkerState"/>, kept in step with every change (O(1)): the gauge's source.</summary>
    public IReadOnlyList<int> WorkerStateCounts => _workerStates;

    /// <summary>The state the API shows for <paramref name="worker"/> (<c>WorkerQueries.ToView</c> decides alike from
    /// the records).</summary>
    public static WorkerState StateOf(WorkerInfo worker) =>
        worker.Record.ProtocolVersion is < Protocol.MinProtocolVersion or > Protocol.Version ? WorkerState.UnsupportedProtocol
        : worker.Record.Draining || worker.DrainRequested ? WorkerState.Draining
        : worker.Suspect ? WorkerState.Suspect
        : WorkerState.Ready;

    /// <summary>Opens or closes <paramref name="worker"/>'s probe: while open, a suspect worker is ready for one
    /// placement. Keeps the index in step (the same object is re-indexed, so a reservation of the pass stays valid).</summary>
    public void SetProbe(WorkerInfo worker, bool open)
    {
        if (worker.Probe == open)
        {
            return;
        }

        Index.Remove(worker);
        worker.Probe = open;
        Index.Add(worker);
    }

    /// <summary>Replaces a live worker's info (or removes it), keeping the state counts in step.</summary>
    private void CountWorker(WorkerInfo? previous, WorkerInfo? next)
    {
        if (previous is not null)
        {
            _workerStates[(int)StateOf(previous)]--;
        }

        if (next is not null)
        {
            _workerStates[(int)StateOf(next)]++;
        }
    }

    /// <summary>A registration change of <paramref name="worker"/> seen at <paramref name="now"/>: one beat for the
    /// phi detector (a new incarnation starts afresh). O(1).</summary>
    private void ObserveHealth(WorkerInfo worker, DateTimeOffset now)
    {
        if (!Health.TryGetValue(worker.Id, out var health) || health.Session != worker.Session)
        {
            health = new WorkerHealth(worker.Session);
            Health[worker.Id] = health;
        }

        if (health.Registration.CreateRevision != worker.CreateRevision || health.Registration.Version != worker.Version)
        {
            health.Registration = (worker.CreateRevision, worker.Version, now);
        }

        if (worker.Record.HeartbeatSeconds > 0 && worker.Record.Features.Contains(Protocol.Features.WorkerHeartbeat))
        {
            health.Beats ??= new PhiAccrual(TimeSpan.FromSeconds(worker.Record.HeartbeatSeconds), BeatWindow);
            health.Beats.Beat(now);
        }
    }

    /// <summary>A change of <c>suspects/&lt;workerId&gt;</c>: remembered with its record, and the worker's assignments
    /// judged again (a suspect worker's unstarted ones are taken back sooner).</summary>
    private void ObserveSuspect(string workerId, StoreItem? item, DateTimeOffset now)
    {
        if (item is null)
        {
            SuspectMarks.Remove(workerId);
        }
        else if (!SuspectMarks.ContainsKey(workerId))
        {
            SuspectRecord? record = null;
            try
            {
                record = ContractJson.Deserialize<SuspectRecord>(item.Value.Span);
            }
            catch (System.Text.Json.JsonException)
            {
                // An unreadable marker still marks the worker; it is cleared like one of unknown kind.
            }

            SuspectMarks[workerId] = new SuspectMark(record, now);
        }

        foreach (var assignment in AssignmentsOn(workerId))
        {
            DirtyAssignments.Add(assignment.Key);
        }
    }

    /// <summary>An assignment first seen started (Running, or already finished after a start: a ZooKeeper watch may
    /// skip the Running of a quick job) is a start of its worker's incarnation.</summary>
    private void ObserveStart(AssignmentInfo? previous, AssignmentInfo next, DateTimeOffset now)
    {
        if (Started(next.Record) && !Started(previous?.Record)
            && Health.TryGetValue(next.WorkerId, out var health) && health.Session == next.Record!.WorkerSession)
        {
            health.LastStart = now;
        }

        static bool Started(AssignmentRecord? record) =>
            record is { State: AttemptState.Running } || (record is { IsFinished: true, StartedAt: not null });
    }

    /// <summary>Takes over the health observations and suspect markers' first sightings of <paramref name="earlier"/>.</summary>
    private void CarryHealth(LeaderState earlier)
    {
        foreach (var (id, health) in earlier.Health)
        {
            if (Workers.TryGetValue(id, out var worker) && worker.Session == health.Session)
            {
                Health[id] = health;
                SetProbe(worker, earlier.Workers.TryGetValue(id, out var seen) && seen.Probe);
            }
        }

        foreach (var (id, mark) in earlier.SuspectMarks)
        {
            if (SuspectMarks.ContainsKey(id))
            {
                SuspectMarks[id] = mark;
            }
        }
    }
}
