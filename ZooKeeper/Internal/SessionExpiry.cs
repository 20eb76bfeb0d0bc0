namespace ControlPlane.ZooKeeper.Internal;

/// <summary>
/// The client's judgement of a session none of whose servers it can reach: how long it may keep trying to resume
/// it before it must presume it expired. The ensemble expires a session once it has heard nothing from it for the
/// negotiated timeout; the client measures the same silence from the last byte it received, on its own clock.
/// </summary>
/// <param name="time">The client's clock.</param>
/// <param name="lastHeard">Timestamp (of <paramref name="time"/>) of the last byte received from any server.</param>
/// <param name="timeout">The negotiated session timeout.</param>
/// <param name="expireLocally"><see cref="ZooKeeperClientOptions.ExpireLocallyWhenDisconnected"/>.</param>
internal readonly struct SessionExpiry(TimeProvider time, long lastHeard, TimeSpan timeout, bool expireLocally)
{
    /// <summary>Without local expiry the client still gives up eventually (every server wiped, say, and refusing
    /// our zxid), after ten timeouts.</summary>
    public const int GiveUpTimeouts = 10;

    /// <summary>The silence after which the session is presumed expired.</summary>
    public TimeSpan GiveUpAfter => expireLocally ? timeout : timeout * GiveUpTimeouts;

    /// <summary>How long no server has been heard from.</summary>
    public TimeSpan Silent => time.GetElapsedTime(lastHeard);

    /// <summary>Time left before the session is presumed expired (zero or negative once it is).</summary>
    public TimeSpan Left => GiveUpAfter - Silent;

    /// <summary>Whether the client must now presume the session expired.</summary>
    public bool IsExpired => Silent >= GiveUpAfter;

    /// <summary>Why the session was presumed expired, for <see cref="SessionExpiredException"/>.</summary>
    public string Reason =>
        $"no server reachable for {Silent.TotalMilliseconds:0} ms (session timeout {timeout.TotalMilliseconds:0} ms); expired locally";
}
