using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Failure detection (docs/operations.md, "Failure detection"): which live workers are suspect, and how a suspect
/// worker comes back. Three rules, each measured on the leader's clock:
/// <list type="bullet">
/// <item><c>silent</c>: a Running attempt has not reported for <see cref="SchedulerOptions.SuspectAfterHeartbeats"/>
/// intervals (its worker's beats leave it out, or its own heartbeats stopped). Cleared when it reports again.</item>
/// <item><c>beats</c>: the phi of the worker's registration beats (<see cref="PhiAccrual"/>) reached
/// <see cref="SchedulerOptions.SuspectPhi"/>. Cleared when it beats again.</item>
/// <item><c>unstarted</c>: an assignment of the current incarnation stayed unstarted for
/// <see cref="SchedulerOptions.UnstartedAfterHeartbeats"/> intervals while the worker stays registered. Cleared only
/// when it starts an attempt: after <see cref="SchedulerOptions.SuspectProbeInterval"/> it may take one assignment (a
/// probe); a probe left unstarted is taken back like the others and the next one waits another interval.</item>
/// </list>
/// A suspect worker gets nothing new (but its probe), and its unstarted assignments are taken back once they are
/// <see cref="SchedulerOptions.UnstartedAfterHeartbeats"/> intervals old, as an interruption (no attempt of the job is
/// used). Cost: O(assignments on the worker) per changed or due worker, O(1) for its beats; nothing for the others.
/// </summary>
internal sealed partial class Planner
{
    private void ReconcileSuspects(Pass p, List<string> workerIds)
    {
        var s = p.State;
        foreach (var workerId in workerIds)
        {
            var item = new Item(ItemKind.Worker, workerId);
            s.Deadlines.Clear(item);
            s.Workers.TryGetValue(workerId, out var worker);
            var verdict = worker is null ? default : Judge(p, worker, item);
            var marked = s.Suspects.Contains(workerId);
            if (verdict.Reason is not null && !marked)
            {
                var record = new SuspectRecord { Since = p.Now, Reason = verdict.Reason, Kind = verdict.Kind!, Level = verdict.Level };
                p.Plan.Add(Writes.MarkSuspect(workerId, record, $"{workerId} suspect: {verdict.Reason}"));
            }
            else if (marked && worker is not null && s.SuspectMarks.GetValueOrDefault(workerId) is { Record.Kind: SuspectKinds.Unstarted } mark)
            {
                JudgeUnstartedMark(p, worker, mark, verdict, item);
            }
            else if (verdict.Reason is null && marked)
            {
                p.Plan.Add(Writes.ClearSuspect(workerId, $"{workerId} no longer suspect"));
            }
        }
    }

    /// <summary>Whether <paramref name="worker"/> is suspect now, by which rule, and its suspicion level; sets the
    /// worker's next deadline (when the earliest rule would fire).</summary>
    private Verdict Judge(Pass p, WorkerInfo worker, Item item)
    {
        var s = p.State;
        var verdict = default(Verdict);
        if (worker.Record.HeartbeatSeconds <= 0
            || !(worker.Record.Features.Contains(Protocol.Features.Heartbeat) || worker.Record.Features.Contains(Protocol.Features.WorkerHeartbeat)))
        {
            return verdict;
        }

        var window = TimeSpan.FromSeconds(worker.Record.HeartbeatSeconds * _options.SuspectAfterHeartbeats);
        var unstartedWindow = UnstartedWindow(worker)!.Value;
        var draining = worker.Record.Draining || worker.DrainRequested;
        foreach (var a in s.AssignmentsOn(worker.Id).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (a.Record is { State: AttemptState.Running })
            {
                var deadline = a.LastChanged + window;
                if (p.Now >= deadline)
                {
                    verdict.Suspect(SuspectKinds.Silent, $"attempt {a.JobId}.{a.Attempt} has not reported for {(p.Now - a.LastChanged).TotalSeconds:0} s");
                }
                else
                {
                    s.Deadlines.Set(item, deadline);
                }
            }
            else if (a.Record is { State: AttemptState.Assigned } assigned && assigned.WorkerSession == worker.Session)
            {
                verdict.Unstarted++;
                if (draining)
                {
                    continue; // a draining agent starts nothing by design: its start timeout takes them back
                }

                var deadline = a.FirstSeen + unstartedWindow;
                if (p.Now >= deadline)
                {
                    verdict.Suspect(SuspectKinds.Unstarted, $"assignment {a.JobId}.{a.Attempt} has stayed unstarted for {(p.Now - a.FirstSeen).TotalSeconds:0} s while the worker stays registered");
                }
                else
                {
                    s.Deadlines.Set(item, deadline);
                }
            }
        }

        JudgeBeatFence(p, worker, item);
        if (s.Health.TryGetValue(worker.Id, out var health) && health.Beats is { Last: { } last } beats)
        {
            verdict.Level = Math.Round(beats.Phi(p.Now), 2);
            if (verdict.Level >= _options.SuspectPhi)
            {
                verdict.Suspect(SuspectKinds.Beats, $"no beat for {(p.Now - last).TotalSeconds:0.#} s (phi {verdict.Level:0.##} ≥ {_options.SuspectPhi:0.##})");
            }
            else
            {
                s.Deadlines.Set(item, last + beats.SuspectAfter(_options.SuspectPhi));
            }
        }

        return verdict;
    }

    /// <summary>
    /// A worker marked because it started nothing stays suspect until it starts an attempt (seen after the mark); in
    /// the meantime its probe opens once <see cref="SchedulerOptions.SuspectProbeInterval"/> has passed since the mark
    /// (or since its last probe failed) and nothing of it is waiting to start. Placement closes the probe as soon as it
    /// gives the worker one job.
    /// </summary>
    private void JudgeUnstartedMark(Pass p, WorkerInfo worker, SuspectMark mark, Verdict verdict, Item item)
    {
        var s = p.State;
        var health = s.Health.GetValueOrDefault(worker.Id);
        if (health?.LastStart is { } started && started > mark.Seen && verdict.Reason is null)
        {
            s.SetProbe(worker, false);
            p.Plan.Add(Writes.ClearSuspect(worker.Id, $"{worker.Id} no longer suspect: it started an attempt again"));
            return;
        }

        var failed = health?.ProbeFailed is { } f && f > mark.Seen ? f : mark.Seen;
        var probeAt = failed + _options.SuspectProbeInterval;
        if (verdict.Reason is not null || verdict.Unstarted > 0 || worker.Record.Draining || worker.DrainRequested)
        {
            s.SetProbe(worker, false);
        }
        else if (p.Now >= probeAt)
        {
            s.SetProbe(worker, true);
        }
        else
        {
            s.Deadlines.Set(item, probeAt);
        }
    }

    /// <summary>
    /// Takes back an unstarted assignment of a suspect worker once it is <see cref="SchedulerOptions.UnstartedAfterHeartbeats"/>
    /// intervals old (rather than at the start timeout): the worker does not start what it is given, so the job runs
    /// elsewhere, at the cost of an interruption, not an attempt. Safe like the start timeout: the delete is conditioned
    /// on the assignment's version, so an agent that writes Running first wins and the take-back fails. Lowers
    /// <paramref name="deadline"/> to when that happens otherwise.
    /// </summary>
    private string? TakeBackUnstarted(Pass p, WorkerInfo worker, AssignmentInfo a, ref DateTimeOffset deadline)
    {
        if (!worker.Suspect || UnstartedWindow(worker) is not { } window)
        {
            return null;
        }

        var due = a.FirstSeen + window;
        if (p.Now < due)
        {
            deadline = due < deadline ? due : deadline;
            return null;
        }

        if (p.State.Health.TryGetValue(worker.Id, out var health))
        {
            health.ProbeFailed = p.Now;
        }

        p.State.DirtyWorkers.Add(worker.Id);
        return $"worker {a.WorkerId} is suspect and did not start it within {window.TotalSeconds:0.#} s";
    }

    /// <summary>
    /// The beat fence (feature <c>beatFence</c>, docs/protocol.md "Agent: beat fence"): when the lease and a half have
    /// passed on this leader's clock since it saw the worker's registration last change, its unfinished attempts of the
    /// current incarnation are judged again (<see cref="WhyTakeBack"/> takes them back); until then the worker's deadline
    /// is that moment. O(its assignments), only when the worker changed or fell due.
    /// </summary>
    private void JudgeBeatFence(Pass p, WorkerInfo worker, Item item)
    {
        if (BeatFenceAt(p, worker) is not { } at)
        {
            return;
        }

        var s = p.State;
        var live = s.AssignmentsOn(worker.Id).Where(a => a.Record is { IsFinished: false } r && r.WorkerSession == worker.Session);
        if (p.Now < at)
        {
            if (live.Any())
            {
                s.Deadlines.Set(item, at);
            }

            return;
        }

        foreach (var a in live)
        {
            s.DirtyAssignments.Add(a.Key);
            p.Plan.DueAt(p.Now);
        }
    }

    /// <summary>Why the attempts of <paramref name="worker"/>'s current incarnation must be taken back now because its
    /// agent has fenced itself for want of an acknowledged beat, or null.</summary>
    private static string? BeatFenced(Pass p, WorkerInfo worker)
    {
        if (BeatFenceAt(p, worker) is not { } at || p.Now < at)
        {
            return null;
        }

        var seen = p.State.Health[worker.Id].Registration.Seen;
        return $"worker {worker.Id} has not beaten for {(p.Now - seen).TotalSeconds:0.#} s: its agent fenced itself after its {worker.Record.BeatFenceSeconds:0.#} s beat lease";
    }

    /// <summary>
    /// When the agent of <paramref name="worker"/> has certainly fenced itself if its registration has not changed since
    /// this leader last saw it: the lease L it advertises and L/2 more after the leader saw that change (on its clock).
    /// The agent counts L from before it sent the write, and the leader can only see the write after it was sent, so only
    /// the rate of the two clocks and the agent's 100 ms check period are left to cover: L/2, the same share the session
    /// fence keeps (the agent fences at two thirds of what the other side waits). Null for a worker without the feature,
    /// or with a lease outside (0, 1 day].
    /// </summary>
    private static DateTimeOffset? BeatFenceAt(Pass p, WorkerInfo worker)
    {
        if (worker.Record.BeatFenceSeconds is not (double seconds and > 0 and <= 86_400)
            || !worker.Record.Features.Contains(Protocol.Features.BeatFence)
            || !worker.Record.Features.Contains(Protocol.Features.WorkerHeartbeat)
            || !p.State.Health.TryGetValue(worker.Id, out var health) || health.Session != worker.Session)
        {
            return null;
        }

        if (health.Registration.CreateRevision != worker.CreateRevision || health.Registration.Version != worker.Version)
        {
            // Observations carried over a rebuild may be of an older write: the wait starts now.
            health.Registration = (worker.CreateRevision, worker.Version, p.Now);
        }

        var lease = TimeSpan.FromSeconds(seconds);
        return health.Registration.Seen + lease + (lease / 2);
    }

    /// <summary>How long an assignment of <paramref name="worker"/> may stay unstarted before it counts against the
    /// worker; null for a worker that advertises no heartbeat interval (only the start timeout applies).</summary>
    private TimeSpan? UnstartedWindow(WorkerInfo worker) =>
        worker.Record.HeartbeatSeconds > 0
        && (worker.Record.Features.Contains(Protocol.Features.Heartbeat) || worker.Record.Features.Contains(Protocol.Features.WorkerHeartbeat))
            ? TimeSpan.FromSeconds(worker.Record.HeartbeatSeconds * _options.UnstartedAfterHeartbeats)
            : null;

    /// <summary>One worker's judgement: the first rule that fired, the phi of its beats, its unstarted assignments.</summary>
    private struct Verdict
    {
        public string? Kind;
        public string? Reason;
        public double? Level;
        public int Unstarted;

        public void Suspect(string kind, string reason)
        {
            Kind ??= kind;
            Reason ??= reason;
        }
    }
}
