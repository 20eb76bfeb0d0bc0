using ControlPlane.Contracts.Directors;

namespace ControlPlane.Director.Scheduling;

/// <summary>How a shadow's decision for a job compared with the placement its cell's leader wrote.</summary>
internal enum ShadowOutcome
{
    /// <summary>The same worker.</summary>
    Agree,

    /// <summary>Another worker.</summary>
    Differ,

    /// <summary>The shadow had no decision for the job and could not make one from its view when it saw the leader's.</summary>
    Unplanned,
}

/// <summary>
/// A shadow director's comparison of its planner's placements with its leader's (docs/cells.md, "Shadow directors"),
/// the one owner of that state: the latest decision per job not yet seen placed (at most <c>maxOutstanding</c>), the
/// attempt last compared per job out on a worker (so a job is counted once per attempt), the counts, and the last
/// <see cref="MaxDifferences"/> differences. Each call is O(1) but <see cref="Snapshot"/> (O(differences)). Thread-safe:
/// the follower's loop changes it, the publisher reads it.
/// </summary>
internal sealed class ShadowComparison
{
    /// <summary>Differences a report keeps, newest last.</summary>
    public const int MaxDifferences = 100;

    private readonly Lock _lock = new();
    private readonly int _maxOutstanding;
    private readonly Dictionary<string, (int Attempt, string Worker)> _decisions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _compared = new(StringComparer.Ordinal);
    private readonly Queue<ShadowDifference> _differences = new();
    private long _agree;
    private long _differ;
    private long _unplanned;
    private long _late;
    private long _changes;
    private bool _following;

    /// <summary>An empty comparison.</summary>
    /// <param name="maxOutstanding">Most decisions held for jobs the leader has not been seen placing; a decision past it
    /// is dropped (that job then counts as decided late, or unplanned).</param>
    public ShadowComparison(int maxOutstanding = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOutstanding, 1);
        _maxOutstanding = maxOutstanding;
    }

    /// <summary>Grows with every change of what <see cref="Snapshot"/> returns: a publisher writes only when it moved.</summary>
    public long Changes => Interlocked.Read(ref _changes);

    /// <summary>Decisions held for jobs not yet seen placed.</summary>
    public int Outstanding
    {
        get
        {
            lock (_lock)
            {
                return _decisions.Count;
            }
        }
    }

    /// <summary>The shadow's planner placed attempt <paramref name="attempt"/> of <paramref name="jobId"/> on
    /// <paramref name="worker"/> (a later pass's decision replaces an earlier one: it was made from a newer view).</summary>
    public void Decided(string jobId, int attempt, string worker)
    {
        lock (_lock)
        {
            if (_decisions.Count >= _maxOutstanding && !_decisions.ContainsKey(jobId))
            {
                return;
            }

            _decisions[jobId] = (attempt, worker);
        }
    }

    /// <summary>
    /// The shadow saw its leader's placement of attempt <paramref name="attempt"/> of <paramref name="jobId"/> on
    /// <paramref name="leaderWorker"/>. Compares it with the shadow's decision for that attempt; without one (the view
    /// lagged: the job was placed before the shadow's planner saw it Pending), <paramref name="decideLate"/> is asked for
    /// the worker the shadow's placement would choose now, which counts as <see cref="ShadowReport.Late"/>. Returns the
    /// outcome, or null when that attempt was compared already (a later change of the same attempt).
    /// </summary>
    public ShadowOutcome? Observed(string jobId, int attempt, string leaderWorker, Func<string?> decideLate, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(decideLate);
        lock (_lock)
        {
            if (_compared.TryGetValue(jobId, out var done) && done >= attempt)
            {
                return null;
            }

            _compared[jobId] = attempt;
            string? shadow;
            if (_decisions.Remove(jobId, out var decision) && decision.Attempt == attempt)
            {
                shadow = decision.Worker;
            }
            else
            {
                shadow = decideLate();
                if (shadow is null)
                {
                    _unplanned++;
                    Interlocked.Increment(ref _changes);
                    return ShadowOutcome.Unplanned;
                }

                _late++;
            }

            Interlocked.Increment(ref _changes);
            if (string.Equals(shadow, leaderWorker, StringComparison.Ordinal))
            {
                _agree++;
                return ShadowOutcome.Agree;
            }

            _differ++;
            _differences.Enqueue(new ShadowDifference(jobId, attempt, leaderWorker, shadow, at));
            while (_differences.Count > MaxDifferences)
            {
                _differences.Dequeue();
            }

            return ShadowOutcome.Differ;
        }
    }

    /// <summary>Marks the attempt of a job already out when the shadow started as compared without counting it (the
    /// shadow did not see it placed).</summary>
    public void AlreadyPlaced(string jobId, int attempt)
    {
        lock (_lock)
        {
            _compared[jobId] = attempt;
        }
    }

    /// <summary>The follower has loaded the cell's state (true) or stopped following it (false).</summary>
    public void Following(bool following)
    {
        lock (_lock)
        {
            if (_following != following)
            {
                _following = following;
                Interlocked.Increment(ref _changes);
            }
        }
    }

    /// <summary>The job is gone or finished: forgets its decision and what was compared of it.</summary>
    public void Forget(string jobId)
    {
        lock (_lock)
        {
            _decisions.Remove(jobId);
            _compared.Remove(jobId);
        }
    }

    /// <summary>The report's counts and differences (the caller fills in who and what it is).</summary>
    public ShadowReport Snapshot(ShadowReport identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        lock (_lock)
        {
            return identity with
            {
                Following = _following,
                Agree = _agree,
                Differ = _differ,
                Unplanned = _unplanned,
                Late = _late,
                Outstanding = _decisions.Count,
                Differences = [.. _differences],
            };
        }
    }
}
