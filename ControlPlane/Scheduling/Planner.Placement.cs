using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Telemetry;

namespace ControlPlane.Director.Scheduling;

internal sealed partial class Planner
{
    /// <summary>
    /// Puts a changed Pending job where it belongs: in the queue when its turn has come (a FIFO group offers only its
    /// oldest unfinished job, and only while none of the group is out), cancelled when that was asked for, or
    /// waiting for its backoff with a deadline.
    /// </summary>
    private static void Enqueue(Pass p, JobInfo job, Item item)
    {
        var s = p.State;
        var record = job.Record;
        if (p.Touched.Contains(record.Id))
        {
            return; // judged again next pass (Touched jobs are marked dirty)
        }

        if (record.Spec.Group is { } group)
        {
            var (head, busy) = s.GroupOf(group);
            if (busy || head?.Record.Id != record.Id)
            {
                s.Queue.Remove(record.Id);
                return;
            }
        }

        if (record.CancelRequested)
        {
            // The API cancels Pending jobs itself; this covers a request that raced with a requeue.
            s.Queue.Remove(record.Id);
            p.Touched.Add(record.Id);
            p.Plan.Add(Writes.Job(WriteKind.Cancel, job, JobTransitions.CancelledWhilePending(record, p.Now), "cancel pending", null));
            return;
        }

        if (record.NotBefore is { } notBefore && notBefore > p.Now)
        {
            s.Queue.Remove(record.Id);
            s.Deadlines.Set(item, notBefore);
            return;
        }

        s.Queue.Add(job);
    }

    /// <summary>
    /// Places queued jobs, best first: priority, then submission order (the store's creation revision, not anyone's
    /// clock). A job goes to the least loaded (with <c>Scheduler:Placement=pack</c>: the most loaded) ready worker that has its executor, the features it uses, matching
    /// labels and room (<see cref="WorkerIndex.Pick"/>). When none fits, the job's whole class is set aside for the
    /// pass; so is a class whose concurrency key has no room (<see cref="KeyHasRoom"/>), before any worker is looked
    /// at. Placed jobs leave the queue; a placement whose commit fails puts its job back (it is judged again).
    /// </summary>
    private void Place(Pass p)
    {
        var s = p.State;
        var placed = 0;
        var skipped = new List<JobInfo>();
        try
        {
            while (s.Queue.Peek() is var (job, cls))
            {
                p.Plan.QueueChecks++;
                if (p.Touched.Contains(job.Record.Id))
                {
                    // Written (or withdrawn from) in this pass: not placed in it; it comes back next pass.
                    s.Queue.Remove(job.Record.Id);
                    skipped.Add(job);
                    continue;
                }

                if (placed >= _options.MaxPlacementsPerPass)
                {
                    p.Plan.DueAt(p.Now);
                    break;
                }

                KeyedPlacement? group = null;
                if (cls.Concurrency is { } concurrency && !KeyHasRoom(p, cls, concurrency, out group))
                {
                    s.Queue.SetAside(cls);
                    continue;
                }

                var worker = s.Index.Pick(cls.Requirement);
                if (worker is null)
                {
                    p.Plan.Unplaceable += cls.Jobs.Count;
                    p.Plan.SetAside.Add((cls.Requirement, cls.Jobs.Count));
                    s.Queue.SetAside(cls);
                    continue;
                }

                var placement = Prepare(p, job, worker);
                if (group is not null && !group.Fits(placement))
                {
                    // The key's write is as large as a transaction allows: the rest of the key in the next pass, at once.
                    p.Plan.DueAt(p.Now);
                    s.Queue.SetAside(cls);
                    continue;
                }

                s.Index.Reserve(worker, job.Record.Spec.Slots);
                if (worker.Probe)
                {
                    // A suspect worker's probe is one assignment (docs/operations.md, "Failure detection").
                    s.SetProbe(worker, false);
                }
                s.Queue.Remove(job.Record.Id);
                p.Touched.Add(job.Record.Id);
                if (group is null)
                {
                    p.Plan.Add(Writes.Place(placement));
                }
                else
                {
                    group.Add(placement);
                }

                placed++;
            }

            WriteKeyed(p);
        }
        finally
        {
            s.Queue.EndPass();
            s.Index.ReleaseReservations();
            foreach (var job in skipped)
            {
                s.DirtyJobs.Add(job.Record.Id);
            }
        }
    }

    /// <summary>The job's next record and its assignment on <paramref name="worker"/>. The assignment carries only
    /// the fields the worker advertised (docs/protocol.md: capability negotiation).</summary>
    private static Placement Prepare(Pass p, JobInfo job, WorkerInfo worker)
    {
        var spec = job.Record.Spec;
        var features = worker.Record.Features;
        var assignment = new AssignmentRecord
        {
            JobId = job.Record.Id,
            Attempt = job.Record.Attempt,
            Epoch = p.Epoch,
            WorkerSession = worker.Session,
            AssignedAt = p.Now,
            Executor = spec.Executor,
            Command = spec.Command,
            Args = spec.Args,
            Env = features.Contains(Protocol.Features.Env) ? spec.Env : null,
            WorkingDirectory = features.Contains(Protocol.Features.WorkingDirectory) ? spec.WorkingDirectory : null,
            TimeoutSeconds = features.Contains(Protocol.Features.Timeout) ? spec.TimeoutSeconds : null,
            Slots = spec.Slots,
            TraceParent = DirectorTracing.Placement(job.Record, worker.Id, p.Epoch),
        };
        var next = JobTransitions.Assigned(job.Record, worker.Id, p.Epoch, p.Now);
        return new Placement(job, StoreLayout.Assignment(worker.Id, job.Record.Id, job.Record.Attempt), worker.Id, next, assignment);
    }
}
