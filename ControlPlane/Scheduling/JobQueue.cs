using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The jobs whose turn has come (Pending, past their backoff, not cancelled, at the head of their FIFO group), in
/// placement order: priority (high first), then submission order (the store's creation revision). Jobs are kept in
/// classes of equal <see cref="Requirement"/> and equal concurrency key and limit (<see cref="JobInfo.ClassKey"/>), each
/// ordered the same way, and the classes are ordered by their heads. A pass takes the best head; when no worker fits
/// it, or its concurrency key is full, the whole class is set aside for the rest of the pass (capacity only shrinks
/// within a pass, and so does a key's room), so a pass costs O(placements × log jobs + classes), however many jobs
/// wait.
/// </summary>
internal sealed class JobQueue
{
    private readonly Dictionary<string, JobClass> _classes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (JobInfo Job, JobClass Class)> _members = new(StringComparer.Ordinal);
    private readonly SortedSet<JobClass> _heads = new(ByHead.Instance);
    private readonly List<JobClass> _setAside = [];

    /// <summary>Queues <paramref name="job"/>, replacing an earlier version of it.</summary>
    public void Add(JobInfo job)
    {
        Remove(job.Record.Id);
        var key = job.ClassKey;
        if (!_classes.TryGetValue(key, out var cls))
        {
            cls = new JobClass(key, job.Requirement, job.Record.Spec.Concurrency);
            _classes[key] = cls;
        }

        var wasHead = cls.Jobs.Count > 0;
        if (wasHead)
        {
            _heads.Remove(cls);
        }

        cls.Jobs.Add(job);
        _members[job.Record.Id] = (job, cls);
        if (!cls.SetAside)
        {
            _heads.Add(cls);
        }
    }

    /// <summary>Takes <paramref name="jobId"/> out of the queue, if it is there.</summary>
    public void Remove(string jobId)
    {
        if (!_members.Remove(jobId, out var entry))
        {
            return;
        }

        var cls = entry.Class;
        if (!cls.SetAside)
        {
            _heads.Remove(cls);
        }

        cls.Jobs.Remove(entry.Job);
        if (cls.Jobs.Count == 0)
        {
            _classes.Remove(cls.Key);
        }
        else if (!cls.SetAside)
        {
            _heads.Add(cls);
        }
    }

    /// <summary>The best job left this pass and its class, or null.</summary>
    public (JobInfo Job, JobClass Class)? Peek() => _heads.Count == 0 ? null : (_heads.Min!.Jobs.Min!, _heads.Min!);

    /// <summary>Sets <paramref name="cls"/> aside until <see cref="EndPass"/>: no worker fits its jobs now, or its
    /// concurrency key has no room left in this pass.</summary>
    public void SetAside(JobClass cls)
    {
        _heads.Remove(cls);
        cls.SetAside = true;
        _setAside.Add(cls);
    }

    /// <summary>Ends a pass: classes set aside compete again.</summary>
    public void EndPass()
    {
        foreach (var cls in _setAside)
        {
            cls.SetAside = false;
            if (cls.Jobs.Count > 0 && _classes.TryGetValue(cls.Key, out var current) && ReferenceEquals(current, cls))
            {
                _heads.Add(cls);
            }
        }

        _setAside.Clear();
    }

    /// <summary>Jobs of one requirement and concurrency key and limit, in placement order.</summary>
    internal sealed class JobClass(string key, Requirement requirement, JobConcurrency? concurrency)
    {
        /// <summary><see cref="JobInfo.ClassKey"/> of its jobs.</summary>
        public string Key { get; } = key;

        public Requirement Requirement { get; } = requirement;

        /// <summary>The concurrency key and limit its jobs share, if any.</summary>
        public JobConcurrency? Concurrency { get; } = concurrency;

        public SortedSet<JobInfo> Jobs { get; } = new(InOrder.Instance);

        public bool SetAside { get; set; }
    }

    /// <summary>Placement order: priority high first, then creation revision, then id.</summary>
    internal sealed class InOrder : IComparer<JobInfo>
    {
        public static readonly InOrder Instance = new();

        public int Compare(JobInfo? x, JobInfo? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var priority = y!.Record.Spec.Priority.CompareTo(x!.Record.Spec.Priority);
            if (priority != 0)
            {
                return priority;
            }

            var order = x.CreateRevision.CompareTo(y.CreateRevision);
            return order != 0 ? order : string.CompareOrdinal(x.Record.Id, y.Record.Id);
        }
    }

    private sealed class ByHead : IComparer<JobClass>
    {
        public static readonly ByHead Instance = new();

        public int Compare(JobClass? x, JobClass? y) =>
            ReferenceEquals(x, y) ? 0
            : InOrder.Instance.Compare(x!.Jobs.Min, y!.Jobs.Min) is var order && order != 0 ? order
            : string.CompareOrdinal(x.Key, y.Key);
    }
}
