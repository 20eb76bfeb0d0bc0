namespace ControlPlane.Director.Hosting;

/// <summary>
/// Admission control, in the <c>Scheduler:*</c> section beside <see cref="Scheduling.SchedulerOptions"/> (one section
/// for everything about the queue; a separate class so the limits can change without touching the scheduler's).
/// Every director refuses a submission with 429 while the leader's published pending count is at a limit; the leader
/// publishes the counts that the limits need. Give every director the same values. Validated at start-up.
/// </summary>
/// <remarks>
/// The limits are soft: directors read the count the leader published last, which lags the queue by about
/// <see cref="QueueStatusInterval"/> plus one pass, so the queue can overshoot a limit by what all directors accept
/// in that time (docs/operations.md, "Admission control").
/// </remarks>
public sealed class AdmissionOptions
{
    /// <summary>Configuration section name, shared with <see cref="Scheduling.SchedulerOptions"/>.</summary>
    public const string Section = "Scheduler";

    /// <summary>Submissions are refused (429) while this many jobs or more are Pending; 0 turns the limit off.
    /// Twice the 100,000 pending jobs the leader is sized and measured for (issue 13), so bursts fit while a flood that
    /// would slow the API and the leader is stopped. <value>200,000.</value></summary>
    public int MaxPending { get; set; } = 200_000;

    /// <summary>Submissions to one FIFO group are refused (429) while the group has this many Pending jobs or more;
    /// 0 turns the limit off. A group runs one job at a time, so 10,000 waiting jobs are hours of backlog: more is
    /// almost always a runaway producer, which this stops without refusing other groups. The leader lists a group in
    /// <c>status/queue</c> from half this count. <value>10,000.</value></summary>
    public int MaxPendingPerGroup { get; set; } = 10_000;

    /// <summary>The leader writes its pending counts to <c>status/queue</c> at most this often (and only when they
    /// changed): one small store write per interval, and the lag behind which directors see the queue.
    /// <c>Retry-After</c> is never shorter. 100 ms to 1 min. <value>1 s.</value></summary>
    public TimeSpan QueueStatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Every problem with the settings, empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxPending < 0)
        {
            yield return $"{Section}:{nameof(MaxPending)} must be 0 (no limit) or positive; got {MaxPending}.";
        }

        if (MaxPendingPerGroup < 0)
        {
            yield return $"{Section}:{nameof(MaxPendingPerGroup)} must be 0 (no limit) or positive; got {MaxPendingPerGroup}.";
        }

        if (QueueStatusInterval < TimeSpan.FromMilliseconds(100) || QueueStatusInterval > TimeSpan.FromMinutes(1))
        {
            yield return $"{Section}:{nameof(QueueStatusInterval)} must be between 100 ms and 1 min; got {QueueStatusInterval}.";
        }
    }

    /// <summary>The smallest pending count for which the leader lists a group in <c>status/queue</c>: half the
    /// per-group limit, so a group is listed long before it reaches the limit while the many small groups stay out of
    /// the record; null when the per-group limit is off.</summary>
    public int? GroupReportThreshold => MaxPendingPerGroup > 0 ? Math.Max(1, (MaxPendingPerGroup + 1) / 2) : null;
}
