using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

internal sealed partial class Planner
{
    /// <summary>
    /// Places Pending jobs: priority first, then submission order (the store's creation revision, not anyone's
    /// clock); a FIFO group only offers its oldest unfinished job, and only while none of the group is out; a job
    /// goes to the least loaded ready worker that has its executor, the features it uses, matching labels and room.
    /// </summary>
    private void Place(SchedulerSnapshot s, Plan plan, Dictionary<string, int> used, HashSet<string> touched)
    {
        var workers = s.Workers.Values.Where(w => w.Ready).OrderBy(w => w.Id, StringComparer.Ordinal).ToList();
        var candidates = new List<JobInfo>();
        var groups = new Dictionary<string, (JobInfo? Head, bool Busy)>(StringComparer.Ordinal);
        foreach (var job in s.Jobs.Values)
        {
            var record = job.Record;
            if (record.State == JobState.Pending)
            {
                plan.Pending++;
            }

            if (record.Spec.Group is { } group && !record.State.IsTerminal())
            {
                var (head, busy) = groups.GetValueOrDefault(group);
                busy |= record.State is JobState.Assigned or JobState.Running || (touched.Contains(record.Id) && record.State != JobState.Pending);
                if (head is null || job.CreateRevision < head.CreateRevision)
                {
                    head = job;
                }

                groups[group] = (head, busy);
                continue;
            }

            if (IsPlaceable(s, plan, job, touched))
            {
                candidates.Add(job);
            }
        }

        foreach (var (head, busy) in groups.Values)
        {
            if (!busy && head is not null && IsPlaceable(s, plan, head, touched))
            {
                candidates.Add(head);
            }
        }

        candidates.Sort((a, b) => b.Record.Spec.Priority != a.Record.Spec.Priority
            ? b.Record.Spec.Priority.CompareTo(a.Record.Spec.Priority)
            : a.CreateRevision.CompareTo(b.CreateRevision));

        var placed = 0;
        foreach (var job in candidates)
        {
            if (placed >= _options.MaxPlacementsPerPass)
            {
                plan.DueAt(s.Now);
                break;
            }

            var worker = PickWorker(workers, used, job.Record.Spec);
            if (worker is null)
            {
                plan.Unplaceable++;
                continue;
            }

            used[worker.Id] = used.GetValueOrDefault(worker.Id) + job.Record.Spec.Slots;
            plan.Writes.Add(Assign(s, job, worker));
            placed++;
        }
    }

    private static bool IsPlaceable(SchedulerSnapshot s, Plan plan, JobInfo job, HashSet<string> touched)
    {
        if (job.Record.State != JobState.Pending || touched.Contains(job.Record.Id))
        {
            return false;
        }

        if (job.Record.CancelRequested)
        {
            // The API cancels Pending jobs itself; this covers a request that raced with a requeue.
            touched.Add(job.Record.Id);
            var cancelled = Terminal(s, job.Record, JobState.Cancelled, "cancelled before it ran", job.Record.ExitCode, job.Record.Output);
            plan.Writes.Add(new(WriteKind.Cancel, job.Record.Id, "cancel pending", 1, job.Bytes,
                tx => tx.Update(job.Key, ContractJson.Serialize(cancelled), job.Version)));
            return false;
        }

        if (job.Record.NotBefore is { } notBefore && notBefore > s.Now)
        {
            plan.DueAt(notBefore);
            return false;
        }

        return true;
    }

    private static WorkerInfo? PickWorker(List<WorkerInfo> workers, Dictionary<string, int> used, JobSpec spec)
    {
        WorkerInfo? best = null;
        var bestLoad = double.MaxValue;
        foreach (var worker in workers)
        {
            var record = worker.Record;
            var inUse = used.GetValueOrDefault(worker.Id);
            if (record.Slots - inUse < spec.Slots || !record.Executors.Contains(spec.Executor) || !Matches(record.Labels, spec.Constraints))
            {
                continue;
            }

            if (JobSpecValidator.RequiredFeatures(spec).Any(f => !record.Features.Contains(f)))
            {
                continue;
            }

            var load = (double)inUse / Math.Max(record.Slots, 1);
            if (load < bestLoad)
            {
                best = worker;
                bestLoad = load;
            }
        }

        return best;
    }

    private static bool Matches(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string>? constraints)
    {
        if (constraints is null)
        {
            return true;
        }

        foreach (var (name, value) in constraints)
        {
            if (!labels.TryGetValue(name, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The job's update and its assignment's creation, in one unit. The assignment carries only the
    /// fields the worker advertised (docs/protocol.md: capability negotiation).</summary>
    private static PlannedWrite Assign(SchedulerSnapshot s, JobInfo job, WorkerInfo worker)
    {
        var spec = job.Record.Spec;
        var features = worker.Record.Features;
        var assignment = new AssignmentRecord
        {
            JobId = job.Record.Id,
            Attempt = job.Record.Attempt,
            Epoch = s.Epoch,
            WorkerSession = worker.Session,
            AssignedAt = s.Now,
            Executor = spec.Executor,
            Command = spec.Command,
            Args = spec.Args,
            Env = features.Contains(Protocol.Features.Env) ? spec.Env : null,
            WorkingDirectory = features.Contains(Protocol.Features.WorkingDirectory) ? spec.WorkingDirectory : null,
            TimeoutSeconds = features.Contains(Protocol.Features.Timeout) ? spec.TimeoutSeconds : null,
            Slots = spec.Slots,
        };
        var next = job.Record with
        {
            State = JobState.Assigned,
            WorkerId = worker.Id,
            Epoch = s.Epoch,
            AssignedAt = s.Now,
            StartedAt = null,
            NotBefore = null,
        };
        var jobBytes = ContractJson.Serialize(next);
        var assignmentBytes = ContractJson.Serialize(assignment);
        var key = StoreLayout.Assignment(worker.Id, job.Record.Id, job.Record.Attempt);
        return new(WriteKind.Place, job.Record.Id, worker.Id, 2, jobBytes.Length + assignmentBytes.Length,
            tx => tx.Update(job.Key, jobBytes, job.Version).Create(key, assignmentBytes));
    }
}
