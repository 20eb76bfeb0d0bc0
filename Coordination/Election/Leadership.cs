namespace ControlPlane.Coordination.Election;

/// <summary>This candidate's view of its leadership at one moment.</summary>
/// <param name="IsLeader">True while this process may act as the leader.</param>
/// <param name="Epoch">The create revision of the leader's candidate key: higher for every later leader, on both stores.
/// Stamped on the leader's writes as its fencing token. 0 when not leading.</param>
/// <param name="CandidateKey">This candidate's key, or null when it has none.</param>
/// <param name="Since">When this state began (the election's clock).</param>
/// <param name="Reason">Why the state changed, for logs and operators.</param>
public sealed record Leadership(bool IsLeader, long Epoch, string? CandidateKey, DateTimeOffset Since, string Reason)
{
    /// <summary>Not leading, with no candidate yet.</summary>
    public static Leadership None(DateTimeOffset since, string reason) => new(false, 0, null, since, reason);
}
