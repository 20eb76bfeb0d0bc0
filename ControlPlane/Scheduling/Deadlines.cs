namespace ControlPlane.Director.Scheduling;

/// <summary>What a deadline belongs to.</summary>
internal enum ItemKind
{
    /// <summary>A job (backoff over, missing assignment, retention).</summary>
    Job,

    /// <summary>An assignment (start timeout, job timeout).</summary>
    Assignment,

    /// <summary>A worker (its running attempts' heartbeat window: suspicion).</summary>
    Worker,

    /// <summary>A schedule (its next tick).</summary>
    Schedule,

    /// <summary>A workflow (its staging deadline, its removal).</summary>
    Workflow,
}

/// <summary>An item the leader judges: a job id, an assignment key, a worker id or a schedule id.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Id">Its id or key.</param>
internal readonly record struct Item(ItemKind Kind, string Id);

/// <summary>
/// One heap of every time-based decision: start timeouts, job timeouts, heartbeat windows, retry not-before and
/// retention. Each item has at most one deadline (the earliest its last judgement asked for); a judgement clears
/// the item's deadline first and sets it again if it still needs one. Stale heap entries are skipped lazily, so
/// setting and clearing are O(log n) and the heap holds at most one live entry per item plus the stale ones that
/// have not reached the top yet (bounded by compaction when they outnumber the live ones).
/// </summary>
internal sealed class Deadlines
{
    private readonly PriorityQueue<Item, (DateTimeOffset At, ItemKind Kind, string Id)> _heap = new(new ByTime());
    private readonly Dictionary<Item, DateTimeOffset> _due = [];

    /// <summary>Sets <paramref name="item"/>'s deadline to <paramref name="at"/> unless it already has an earlier one.</summary>
    public void Set(Item item, DateTimeOffset at)
    {
        if (_due.TryGetValue(item, out var current) && current <= at)
        {
            return;
        }

        _due[item] = at;
        _heap.Enqueue(item, (at, item.Kind, item.Id));
        if (_heap.Count > 2 * _due.Count + 1024)
        {
            Compact();
        }
    }

    /// <summary>Every item with its deadline, earliest first (for diagnostics).</summary>
    public IEnumerable<string> Describe() => _due.OrderBy(d => d.Value).ThenBy(d => d.Key.Id, StringComparer.Ordinal).Select(d => $"{d.Key.Kind} {d.Key.Id} {d.Value:O}");

    /// <summary>Forgets <paramref name="item"/>'s deadline.</summary>
    public void Clear(Item item) => _due.Remove(item);

    /// <summary>The earliest deadline, or null.</summary>
    public DateTimeOffset? Next
    {
        get
        {
            SkipStale();
            return _heap.TryPeek(out _, out var top) ? top.At : null;
        }
    }

    /// <summary>Removes and returns every item whose deadline is at or before <paramref name="now"/>, earliest first.</summary>
    public List<Item> TakeDue(DateTimeOffset now)
    {
        var due = new List<Item>();
        while (true)
        {
            SkipStale();
            if (!_heap.TryPeek(out var item, out var top) || top.At > now)
            {
                return due;
            }

            _heap.Dequeue();
            _due.Remove(item);
            due.Add(item);
        }
    }

    private void SkipStale()
    {
        while (_heap.TryPeek(out var item, out var top) && (!_due.TryGetValue(item, out var at) || at != top.At))
        {
            _heap.Dequeue();
        }
    }

    private void Compact()
    {
        _heap.Clear();
        foreach (var (item, at) in _due)
        {
            _heap.Enqueue(item, (at, item.Kind, item.Id));
        }
    }

    private sealed class ByTime : IComparer<(DateTimeOffset At, ItemKind Kind, string Id)>
    {
        public int Compare((DateTimeOffset At, ItemKind Kind, string Id) x, (DateTimeOffset At, ItemKind Kind, string Id) y)
        {
            var order = x.At.CompareTo(y.At);
            if (order == 0)
            {
                order = x.Kind.CompareTo(y.Kind);
            }

            return order != 0 ? order : string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
