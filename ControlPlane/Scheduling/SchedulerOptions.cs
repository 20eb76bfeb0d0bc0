namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The <c>Scheduler:*</c> section: how the leader reconciles. Defaults suit a cluster with a 10 s session timeout;
/// every value is validated at start-up.
/// </summary>
public sealed class SchedulerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Scheduler";

    /// <summary>Longest time between two reconciliation passes when nothing wakes the loop. <value>1 s.</value></summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An assignment its agent has not confirmed within this time (on the leader's clock) is taken back.
    /// <value>30 s.</value></summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Added to a job's <c>timeoutSeconds</c> before the leader ends an attempt whose agent stayed silent
    /// (the agent enforces the timeout itself; this is the backstop for a gray failure). Keep it well above the
    /// agents' <c>Executors:Shell:GracePeriod</c> (SIGTERM to SIGKILL, 10 s by default): the agent's own stop must be
    /// over before the leader can start the next attempt. <value>30 s.</value></summary>
    public TimeSpan TimeoutGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First retry backoff; it doubles with every attempt. <value>1 s.</value></summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Cap of the retry backoff. <value>60 s.</value></summary>
    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Finished jobs are removed this long after they finished. <value>24 h.</value></summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A worker whose running attempts have not reported for this many of its heartbeat intervals is
    /// suspect: it gets no new work until they report again. <value>3.</value></summary>
    public int SuspectAfterHeartbeats { get; set; } = 3;

    /// <summary>Suspicion level (phi, <see cref="PhiAccrual"/>) of a worker's registration beats (feature
    /// <c>workerHeartbeat</c>) at which it is suspect: it gets no new work until it beats again. 8 means about one chance
    /// in 10⁸ that a healthy worker's beat is merely late; with regular 5 s beats that is about 12 s of silence. Lower
    /// finds a stalled agent sooner and suspects a slow one more often. <value>8.</value></summary>
    public double SuspectPhi { get; set; } = 8;

    /// <summary>Gaps between beats the phi detector keeps per worker (its window; O(1) per beat whatever the size).
    /// <value>32.</value></summary>
    public int BeatWindow { get; set; } = 32;

    /// <summary>A registered worker that has left an assignment unstarted for this many of its heartbeat intervals
    /// (measured on the leader's clock from when it saw the assignment) is suspect: it takes an assignment but starts
    /// none. Its unstarted assignments are then taken back (no attempt of the job is used) and placed elsewhere. Keep it
    /// below 3 so the mark lands within three report intervals. Workers without a heartbeat feature are only subject to
    /// <see cref="StartTimeout"/>. <value>2.</value></summary>
    public double UnstartedAfterHeartbeats { get; set; } = 2;

    /// <summary>A worker suspect because it started nothing gets one assignment as a probe this long after it was marked
    /// (and again this long after a probe failed); when the probe starts, the mark is removed. <value>30 s.</value></summary>
    public TimeSpan SuspectProbeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most jobs placed in one pass, and most Waiting jobs released or skipped in one pass (the rest wait
    /// for the next pass, which follows at once). <value>2000.</value></summary>
    public int MaxPlacementsPerPass { get; set; } = 2000;

    /// <summary>Fenced batches one pass keeps in flight at once (each at most 62 operations). <value>4.</value></summary>
    public int MaxCommitsInFlight { get; set; } = 4;

    /// <summary>How often the leader rebuilds its state from its caches and compares it with the incremental one (a
    /// difference is logged, counted in <c>controlplane.scheduler.selfcheck.failures</c> and repaired). The rebuild
    /// costs about as much as loading the term (parsing every record); keep it rare. <value>10 min.</value></summary>
    public TimeSpan SelfCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a cell's leader judges the cell's progressive feature rollouts (docs/cells.md): one listing of
    /// the cell's <c>rollouts/</c> per interval, and a fenced write only when a step advances, completes or halts.
    /// <value>5 s.</value></summary>
    public TimeSpan RolloutInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts a job may lose through no fault of its own (worker gone, restarted, fenced, drained) before
    /// further losses count against its <c>maxAttempts</c>: a job that keeps taking its workers down must still end.
    /// <value>10.</value></summary>
    public int MaxInterruptions { get; set; } = 10;

    /// <summary>A leader whose reconciliation loop has not completed a pass for this long resigns, so a stalled
    /// leader cannot hold leadership while its session heartbeats on. <value>30 s.</value></summary>
    public TimeSpan WatchdogTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where a job goes among the ready workers with room that suit it (docs/cells.md, "Shadow directors"):
    /// <c>spread</c>, the least loaded (slots used ÷ slots; ties: lowest worker id), or <c>pack</c>, the most loaded
    /// that still has room for it (ties: lowest worker id), which keeps whole workers free. <value><c>spread</c>.</value></summary>
    public string Placement { get; set; } = "spread";

    /// <summary><see cref="Placement"/>, parsed; <see cref="PlacementStrategy.Spread"/> for a value
    /// <see cref="Validate"/> refuses.</summary>
    public PlacementStrategy PlacementStrategy => PlacementStrategies.TryParse(Placement) ?? PlacementStrategy.Spread;

    /// <summary>Throws <see cref="System.ComponentModel.DataAnnotations.ValidationException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (PlacementStrategies.TryParse(Placement) is null)
        {
            throw Invalid(nameof(Placement), $"must be 'spread' or 'pack'; got '{Placement}'");
        }

        Positive(nameof(ReconcileInterval), ReconcileInterval);
        Positive(nameof(StartTimeout), StartTimeout);
        Positive(nameof(RetryBackoff), RetryBackoff);
        Positive(nameof(Retention), Retention);
        Positive(nameof(WatchdogTimeout), WatchdogTimeout);
        if (TimeoutGrace < TimeSpan.Zero)
        {
            throw Invalid(nameof(TimeoutGrace), "must not be negative");
        }

        if (MaxRetryBackoff < RetryBackoff)
        {
            throw Invalid(nameof(MaxRetryBackoff), "must be at least RetryBackoff");
        }

        if (SuspectAfterHeartbeats < 2)
        {
            throw Invalid(nameof(SuspectAfterHeartbeats), "must be at least 2 (one late heartbeat is normal)");
        }

        if (!(SuspectPhi is >= 1 and <= 100))
        {
            throw Invalid(nameof(SuspectPhi), "must be between 1 and 100");
        }

        if (BeatWindow is < 2 or > 1000)
        {
            throw Invalid(nameof(BeatWindow), "must be between 2 and 1000");
        }

        if (!(UnstartedAfterHeartbeats is >= 1 and <= 100))
        {
            throw Invalid(nameof(UnstartedAfterHeartbeats), "must be between 1 and 100 (heartbeat intervals)");
        }

        Positive(nameof(SuspectProbeInterval), SuspectProbeInterval);
        if (MaxPlacementsPerPass < 1)
        {
            throw Invalid(nameof(MaxPlacementsPerPass), "must be positive");
        }

        if (MaxCommitsInFlight is < 1 or > 64)
        {
            throw Invalid(nameof(MaxCommitsInFlight), "must be between 1 and 64");
        }

        Positive(nameof(SelfCheckInterval), SelfCheckInterval);
        Positive(nameof(RolloutInterval), RolloutInterval);
        if (MaxInterruptions < 0)
        {
            throw Invalid(nameof(MaxInterruptions), "must not be negative");
        }

        if (WatchdogTimeout <= ReconcileInterval * 3)
        {
            throw Invalid(nameof(WatchdogTimeout), "must be more than three reconcile intervals");
        }
    }

    /// <summary>Backoff before attempt <paramref name="nextAttempt"/> (2 or more) may start.</summary>
    public TimeSpan BackoffBefore(int nextAttempt)
    {
        var doublings = Math.Clamp(nextAttempt - 2, 0, 30);
        var ticks = Math.Min(RetryBackoff.Ticks * (1L << Math.Min(doublings, 20)), MaxRetryBackoff.Ticks);
        return TimeSpan.FromTicks(ticks);
    }

    private static void Positive(string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            throw Invalid(name, "must be positive");
        }
    }

    private static System.ComponentModel.DataAnnotations.ValidationException Invalid(string name, string why) =>
        new($"Scheduler:{name} {why}.");
}
