namespace ControlPlane.Coordination.Election;

/// <summary>Settings of a <see cref="LeaderElection"/>.</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>The key under which candidates register. <value><c>directors/election</c>.</value></summary>
    public string ElectionKey { get; set; } = "directors/election";

    /// <summary>What this candidate publishes in its key (UTF-8 JSON, e.g. its id and URL), so anyone can read who leads.</summary>
    public ReadOnlyMemory<byte> CandidateValue { get; set; } = "{}"u8.ToArray();

    /// <summary>
    /// How long before the store could expire the session the leader stops acting, counted from the send time of
    /// the last request the store answered. <value>null: a third of the session timeout.</value>
    /// </summary>
    /// <remarks>It must cover the time to notice (the supervision interval) plus the longest action the
    /// leader takes without a fenced write; fenced writes themselves can never land after leadership is lost.</remarks>
    public TimeSpan? SafetyMargin { get; set; }

    /// <summary>Pause after a failed campaign step before the next try (the <c>election.retry</c> pipeline: ±25 % jitter). <value>200 ms.</value></summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting and the fix when the settings cannot work.</summary>
    public void Validate(TimeSpan sessionTimeout)
    {
        StoreKeys.Validate(ElectionKey, nameof(ElectionKey));
        var margin = EffectiveMargin(sessionTimeout);
        // A healthy session is renewed every third of its timeout, so up to a third may pass between answers;
        // a margin above half the timeout would make a healthy leader step down between two heartbeats.
        if (margin <= TimeSpan.Zero || margin > sessionTimeout / 2)
        {
            throw new ArgumentException(
                $"SafetyMargin {margin.TotalMilliseconds:0} ms must be above zero and at most half the session timeout " +
                $"({(sessionTimeout / 2).TotalMilliseconds:0} ms); lower the margin or raise the session timeout.", nameof(SafetyMargin));
        }

        if (RetryDelay <= TimeSpan.Zero || RetryDelay > TimeSpan.FromSeconds(30))
        {
            throw new ArgumentException("RetryDelay must be between 0 and 30 s.", nameof(RetryDelay));
        }
    }

    /// <summary>The margin in force for <paramref name="sessionTimeout"/>.</summary>
    public TimeSpan EffectiveMargin(TimeSpan sessionTimeout) => SafetyMargin ?? sessionTimeout / 3;
}
