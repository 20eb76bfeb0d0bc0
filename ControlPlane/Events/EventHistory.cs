namespace ControlPlane.Director.Events;

/// <summary>
/// The director's most recent events, in revision order, in a ring of fixed capacity: what a resume
/// (<c>Last-Event-ID</c>, <c>?since=</c>) is served from. <see cref="Floor"/> is the revision it covers from: it holds
/// every event with a revision above it, so a resume from any revision at or above the floor misses nothing.
/// </summary>
/// <remarks>Not thread-safe: the <see cref="EventHub"/> uses it under its lock. Appending is O(1); reading a resume
/// is O(log n + events returned).</remarks>
internal sealed class EventHistory
{
    private readonly StreamEvent[] _ring;
    private int _start;
    private int _count;

    /// <summary>An empty history holding at most <paramref name="capacity"/> events (0 keeps none).</summary>
    public EventHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _ring = new StreamEvent[capacity];
    }

    /// <summary>Every event with a revision above this one is held (until it is pushed out).</summary>
    public long Floor { get; private set; }

    /// <summary>The revision of the newest event, or <see cref="Floor"/> when none is held.</summary>
    public long Head { get; private set; }

    /// <summary>Events held.</summary>
    public int Count => _count;

    /// <summary>Forgets everything: from now on the history covers revisions after <paramref name="revision"/> only
    /// (a gap the director's watch could not report change by change).</summary>
    public void Reset(long revision)
    {
        Array.Clear(_ring);
        _start = 0;
        _count = 0;
        Floor = revision;
        Head = revision;
    }

    /// <summary>Appends <paramref name="e"/>, whose revision must not be below the newest held; the oldest event is
    /// pushed out when full, and the floor rises to its revision.</summary>
    public void Append(StreamEvent e)
    {
        if (e.Revision < Head)
        {
            throw new ArgumentException($"Revision {e.Revision} is below the newest held ({Head}).", nameof(e));
        }

        Head = e.Revision;
        if (_ring.Length == 0)
        {
            Floor = e.Revision;
            return;
        }

        if (_count == _ring.Length)
        {
            Floor = Math.Max(Floor, _ring[_start].Revision);
            _ring[_start] = e;
            _start = (_start + 1) % _ring.Length;
            return;
        }

        _ring[(_start + _count) % _ring.Length] = e;
        _count++;
    }

    /// <summary>Moves the head to <paramref name="revision"/> with no event (a revision nothing of interest changed in).</summary>
    public void Advance(long revision) => Head = Math.Max(Head, revision);

    /// <summary>Whether a resume from <paramref name="since"/> can be served: nothing after it was pushed out.</summary>
    public bool Covers(long since) => since >= Floor;

    /// <summary>Every held event with a revision above <paramref name="since"/>, oldest first.</summary>
    public List<StreamEvent> After(long since)
    {
        // Binary search for the first event above since: revisions are non-decreasing along the ring.
        int low = 0, high = _count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (At(mid).Revision <= since)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        var result = new List<StreamEvent>(_count - low);
        for (var i = low; i < _count; i++)
        {
            result.Add(At(i));
        }

        return result;
    }

    private StreamEvent At(int index) => _ring[(_start + index) % _ring.Length];
}
