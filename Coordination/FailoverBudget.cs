using System.Globalization;
using System.Text;

namespace ControlPlane.Coordination;

/// <summary>The timing settings a process runs with, as requested and as the store granted them.</summary>
/// <param name="Backend">The store.</param>
/// <param name="RequestedSessionTimeout">The session timeout (ZooKeeper) or lease TTL (etcd) asked for.</param>
/// <param name="GrantedSessionTimeout">What the store granted: ZooKeeper clamps to [2, 20] × tickTime.</param>
/// <param name="HeartbeatInterval">How often the client renews the session (ZooKeeper ping, etcd keepalive).</param>
/// <param name="SafetyMargin">How long before possible expiry leaders and agents stop acting.</param>
/// <param name="ElectionRetryDelay">The election's pause between failed steps.</param>
public sealed record FailoverTimings(
    StoreBackend Backend,
    TimeSpan RequestedSessionTimeout,
    TimeSpan GrantedSessionTimeout,
    TimeSpan HeartbeatInterval,
    TimeSpan SafetyMargin,
    TimeSpan ElectionRetryDelay);

/// <summary>
/// The start-up check of timing settings: what failover will cost in the worst case, what deserves a warning, and
/// what is unsafe. A process logs <see cref="Describe"/> and refuses to start when <see cref="Errors"/> is not empty.
/// </summary>
public sealed class FailoverBudget
{
    private FailoverBudget(FailoverTimings timings, TimeSpan worstCase, IReadOnlyList<string> warnings, IReadOnlyList<string> errors)
    {
        Timings = timings;
        WorstCaseFailover = worstCase;
        Warnings = warnings;
        Errors = errors;
    }

    /// <summary>The settings judged.</summary>
    public FailoverTimings Timings { get; }

    /// <summary>
    /// The longest a crashed leader (or agent) can hold its role before a successor acts: the store's expiry of its
    /// session, plus the successor's notice and one election retry.
    /// </summary>
    public TimeSpan WorstCaseFailover { get; }

    /// <summary>Settings that work but deserve attention (e.g. a clamped session timeout).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Settings that would break a guarantee; each says what to change.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>Judges the timings of <paramref name="session"/> as granted, for work that stops
    /// <paramref name="safetyMargin"/> before possible expiry. Both clients renew every third of the timeout.</summary>
    public static FailoverBudget ForSession(StoreBackend backend, IStoreSession session, TimeSpan safetyMargin, TimeSpan electionRetryDelay)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Evaluate(new FailoverTimings(
            backend, session.RequestedTimeout, session.Timeout, session.Timeout / 3, safetyMargin, electionRetryDelay));
    }

    /// <summary>Judges <paramref name="timings"/>.</summary>
    public static FailoverBudget Evaluate(FailoverTimings timings)
    {
        ArgumentNullException.ThrowIfNull(timings);
        var warnings = new List<string>();
        var errors = new List<string>();
        var granted = timings.GrantedSessionTimeout;

        if (granted != timings.RequestedSessionTimeout)
        {
            warnings.Add(timings.Backend == StoreBackend.ZooKeeper
                ? $"ZooKeeper granted a session timeout of {Ms(granted)} instead of the {Ms(timings.RequestedSessionTimeout)} requested: " +
                  "the server clamps to [minSessionTimeout, maxSessionTimeout] (default 2 and 20 × tickTime); change those or the request."
                : $"etcd granted a lease TTL of {Ms(granted)} instead of the {Ms(timings.RequestedSessionTimeout)} requested.");
        }

        if (timings.Backend == StoreBackend.Etcd && granted < TimeSpan.FromSeconds(2))
        {
            errors.Add($"The lease TTL {Ms(granted)} is below etcd's practical minimum of 2 s (leases shorter than an election can expire during one); raise it.");
        }

        // Three heartbeats per timeout: one late answer must not cost the session.
        if (timings.HeartbeatInterval <= TimeSpan.Zero || timings.HeartbeatInterval > granted / 3)
        {
            errors.Add($"The heartbeat interval {Ms(timings.HeartbeatInterval)} must be positive and at most a third of the session timeout " +
                       $"({Ms(granted / 3)}); lower it or raise the session timeout.");
        }

        if (timings.SafetyMargin <= TimeSpan.Zero || timings.SafetyMargin > granted / 2)
        {
            errors.Add($"The safety margin {Ms(timings.SafetyMargin)} must be positive and at most half the session timeout ({Ms(granted / 2)}): " +
                       "a healthy session goes up to a heartbeat interval without an answer. Lower the margin or raise the session timeout.");
        }
        else if (timings.SafetyMargin < timings.HeartbeatInterval / 2)
        {
            warnings.Add($"The safety margin {Ms(timings.SafetyMargin)} is under half a heartbeat interval ({Ms(timings.HeartbeatInterval / 2)}): " +
                         "a leader may still be acting when its session expires if one unfenced action takes longer than the margin.");
        }

        // The store expires a dead process's session after the timeout; the successor's watch fires at once, and
        // at worst it is between two election retries.
        var worstCase = granted + timings.ElectionRetryDelay * 2 + TimeSpan.FromSeconds(1);
        return new FailoverBudget(timings, worstCase, warnings, errors);
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> listing every error, if there is any.</summary>
    public void ThrowIfUnsafe()
    {
        if (Errors.Count > 0)
        {
            throw new InvalidOperationException("Unsafe timing settings:\n- " + string.Join("\n- ", Errors));
        }
    }

    /// <summary>A one-paragraph summary for the start-up log.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{Timings.Backend} session timeout {Ms(Timings.GrantedSessionTimeout)} (requested {Ms(Timings.RequestedSessionTimeout)}), " +
            $"heartbeat {Ms(Timings.HeartbeatInterval)}, safety margin {Ms(Timings.SafetyMargin)}: " +
            $"worst-case failover {Ms(WorstCaseFailover)}.");
        foreach (var warning in Warnings)
        {
            text.Append(" Warning: ").Append(warning);
        }

        return text.ToString();
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");
}
