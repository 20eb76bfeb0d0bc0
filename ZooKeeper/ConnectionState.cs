namespace ControlPlane.ZooKeeper;

/// <summary>The state of a client's session and connection.</summary>
public enum ConnectionState
{
    /// <summary>Opening the first connection (inside <see cref="ZooKeeperClient.ConnectAsync"/>).</summary>
    Connecting,
    /// <summary>Connected; requests flow.</summary>
    Connected,
    /// <summary>The connection broke; the client is reconnecting and the session may still be alive.
    /// Requests fail fast with <see cref="ConnectionLossException"/>. Anything that must hold only while
    /// the session lives (leadership, leases) should pause here.</summary>
    Suspended,
    /// <summary>The session ended: the server said so, or the client was cut off longer than the
    /// negotiated session timeout. Terminal: ephemerals are (or will shortly be) gone. Open a new client.</summary>
    Expired,
    /// <summary>Closed by <see cref="ZooKeeperClient.CloseAsync"/>. Terminal.</summary>
    Closed,
}

/// <summary>One state transition.</summary>
/// <param name="State">The new state.</param>
/// <param name="Previous">The state before.</param>
/// <param name="SessionId">The session id (unchanged across reconnects).</param>
/// <param name="Server">The server now connected to, when <paramref name="State"/> is Connected.</param>
/// <param name="Reason">What caused it, for Suspended and Expired.</param>
public sealed record ConnectionStateChange(ConnectionState State, ConnectionState Previous, long SessionId, string? Server, Exception? Reason)
{
    /// <summary>True for a Connected state that resumed the session after a Suspended period.</summary>
    public bool IsReconnect => State == ConnectionState.Connected && Previous == ConnectionState.Suspended;
}
