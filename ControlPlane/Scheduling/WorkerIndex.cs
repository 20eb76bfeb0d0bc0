using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Scheduling;

/// <summary>What a job needs from a worker; jobs with equal requirements are interchangeable for placement.</summary>
/// <param name="Executor">The executor it runs on.</param>
/// <param name="Features">Protocol features it uses (sorted).</param>
/// <param name="Constraints">Labels it requires (sorted by name).</param>
/// <param name="Slots">Slots it takes.</param>
internal sealed record Requirement(string Executor, string[] Features, KeyValuePair<string, string>[] Constraints, int Slots)
{
    /// <summary>A canonical string: equal requirements, equal keys.</summary>
    public string Key { get; } = $"{Executor}\u0001{string.Join('\u0002', Features)}\u0001{string.Join('\u0002', Constraints.Select(c => c.Key + "=" + c.Value))}\u0001{Slots}";

    /// <summary>The requirement of <paramref name="spec"/>.</summary>
    public static Requirement Of(JobSpec spec) => new(
        spec.Executor,
        [.. JobSpecValidator.RequiredFeatures(spec).Order(StringComparer.Ordinal)],
        spec.Constraints is null ? [] : [.. spec.Constraints.OrderBy(c => c.Key, StringComparer.Ordinal)],
        spec.Slots);
}

/// <summary>
/// Ready workers with room, indexed so a placement costs O(log workers), not O(workers): one set per capability
/// shape (executors and features) and one per label, each ordered by load (slots used ÷ slots, then id): least loaded
/// first with <see cref="PlacementStrategy.Spread"/>, most loaded first with <see cref="PlacementStrategy.Pack"/>. The
/// chosen compatible worker is the first compatible entry of the smallest set that must contain it. A worker is in
/// the sets only while it is ready and has a free slot; callers re-index it around every change of its load.
/// </summary>
/// <param name="strategy">Which end of the load order a placement takes (<see cref="SchedulerOptions.Placement"/>).</param>
internal sealed class WorkerIndex(PlacementStrategy strategy = PlacementStrategy.Spread)
{
    private readonly IComparer<WorkerInfo> _order = strategy == PlacementStrategy.Pack ? ByLoad.MostLoadedFirst : ByLoad.Instance;
    private readonly Dictionary<string, Shape> _byShape = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, string Value), SortedSet<WorkerInfo>> _byLabel = [];
    private readonly Dictionary<string, string> _shapeOf = new(StringComparer.Ordinal); // worker id → its shape's key
    private readonly Dictionary<string, List<SortedSet<WorkerInfo>>> _compatible = new(StringComparer.Ordinal);
    private readonly List<WorkerInfo> _reserved = [];

    /// <summary>Puts <paramref name="worker"/> in the sets it belongs to now (none if not ready or full).</summary>
    public void Add(WorkerInfo worker)
    {
        if (!worker.Ready || worker.Free <= 0 || _shapeOf.ContainsKey(worker.Id))
        {
            return;
        }

        var shape = worker.ShapeKey;
        if (!_byShape.TryGetValue(shape, out var entry))
        {
            entry = new Shape(
                new HashSet<string>(worker.Record.Executors, StringComparer.Ordinal),
                new HashSet<string>(worker.Record.Features, StringComparer.Ordinal),
                new SortedSet<WorkerInfo>(_order));
            _byShape[shape] = entry;
            _compatible.Clear(); // a new shape may suit requirements already resolved
        }

        entry.Workers.Add(worker);
        _shapeOf[worker.Id] = shape;
        foreach (var label in worker.Record.Labels)
        {
            if (!_byLabel.TryGetValue((label.Key, label.Value), out var byLabel))
            {
                byLabel = new SortedSet<WorkerInfo>(_order);
                _byLabel[(label.Key, label.Value)] = byLabel;
            }

            byLabel.Add(worker);
        }
    }

    /// <summary>Takes <paramref name="worker"/> out of every set; call before changing its record or load.</summary>
    public void Remove(WorkerInfo worker)
    {
        if (!_shapeOf.Remove(worker.Id, out var shape))
        {
            return;
        }

        _byShape[shape].Workers.Remove(worker);
        foreach (var label in worker.Record.Labels)
        {
            if (_byLabel.TryGetValue((label.Key, label.Value), out var byLabel))
            {
                byLabel.Remove(worker);
                if (byLabel.Count == 0)
                {
                    _byLabel.Remove((label.Key, label.Value));
                }
            }
        }
    }

    /// <summary>The strategy placements follow.</summary>
    public PlacementStrategy Strategy { get; } = strategy;

    /// <summary>
    /// The least loaded (spread) or most loaded (pack) ready worker (ties: lowest id) that has the executor, the
    /// features and the labels of <paramref name="need"/> and enough free slots, or null. Scans each candidate set in
    /// the strategy's order and stops at the first fit, so the cost is O(log workers) unless many workers ahead in that
    /// order lack room for a multi-slot job (with pack, the nearly full ones come first: a job of s slots skips the
    /// workers with fewer than s free).
    /// </summary>
    public WorkerInfo? Pick(Requirement need)
    {
        if (need.Constraints.Length > 0)
        {
            // Every fit carries each required label: scan the smallest of those sets only.
            SortedSet<WorkerInfo>? smallest = null;
            foreach (var constraint in need.Constraints)
            {
                if (!_byLabel.TryGetValue((constraint.Key, constraint.Value), out var set))
                {
                    return null;
                }

                if (smallest is null || set.Count < smallest.Count)
                {
                    smallest = set;
                }
            }

            foreach (var worker in smallest!)
            {
                if (worker.Free >= need.Slots && Suits(worker, need))
                {
                    return worker;
                }
            }

            return null;
        }

        WorkerInfo? best = null;
        foreach (var set in Compatible(need))
        {
            foreach (var worker in set)
            {
                if (worker.Free >= need.Slots)
                {
                    if (best is null || _order.Compare(worker, best) < 0)
                    {
                        best = worker;
                    }

                    break;
                }
            }
        }

        return best;
    }

    /// <summary>Holds <paramref name="slots"/> on <paramref name="worker"/> for the pass in progress.</summary>
    public void Reserve(WorkerInfo worker, int slots)
    {
        Remove(worker);
        worker.Reserved += slots;
        _reserved.Add(worker);
        Add(worker);
    }

    /// <summary>Gives back every reservation of the pass: from now on the store's assignments say what is held.</summary>
    public void ReleaseReservations()
    {
        foreach (var worker in _reserved)
        {
            if (worker.Reserved == 0)
            {
                continue;
            }

            Remove(worker);
            worker.Reserved = 0;
            Add(worker);
        }

        _reserved.Clear();
    }

    private IEnumerable<SortedSet<WorkerInfo>> Compatible(Requirement need)
    {
        var key = need.Executor + "\u0001" + string.Join('\u0002', need.Features);
        if (!_compatible.TryGetValue(key, out var sets))
        {
            sets = [];
            foreach (var shape in _byShape.Values)
            {
                if (shape.Executors.Contains(need.Executor) && need.Features.All(shape.Features.Contains))
                {
                    sets.Add(shape.Workers);
                }
            }

            _compatible[key] = sets;
        }

        return sets;
    }

    private static bool Suits(WorkerInfo worker, Requirement need)
    {
        var record = worker.Record;
        if (!record.Executors.Contains(need.Executor))
        {
            return false;
        }

        foreach (var feature in need.Features)
        {
            if (!record.Features.Contains(feature))
            {
                return false;
            }
        }

        foreach (var (name, value) in need.Constraints)
        {
            if (!record.Labels.TryGetValue(name, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Workers with the same executors and features; kept when empty (bounded by the shapes a term sees).</summary>
    private sealed record Shape(HashSet<string> Executors, HashSet<string> Features, SortedSet<WorkerInfo> Workers);

    /// <summary>Least loaded first (used ÷ slots, compared exactly), or most loaded first; then by id either way.</summary>
    private sealed class ByLoad(bool mostLoadedFirst) : IComparer<WorkerInfo>
    {
        public static readonly ByLoad Instance = new(false);

        public static readonly ByLoad MostLoadedFirst = new(true);

        public int Compare(WorkerInfo? x, WorkerInfo? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var left = (long)(x!.Used + x.Reserved) * Math.Max(y!.Record.Slots, 1);
            var right = (long)(y.Used + y.Reserved) * Math.Max(x.Record.Slots, 1);
            if (left != right)
            {
                return mostLoadedFirst ? right.CompareTo(left) : left.CompareTo(right);
            }

            return string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
