namespace ControlPlane.Coordination;

/// <summary>The state of a store session (ZooKeeper session or etcd lease).</summary>
public enum SessionState
{
    /// <summary>Not yet established.</summary>
    Connecting,

    /// <summary>Established and in contact with the store.</summary>
    Connected,

    /// <summary>Contact lost; the store may still hold the session. Its ephemeral keys may vanish at any moment:
    /// see <see cref="IStoreSession.ProvablyAliveFor"/>.</summary>
    Suspended,

    /// <summary>Expired (or lost for longer than its timeout): its ephemeral keys are gone. Terminal.</summary>
    Lost,

    /// <summary>Closed by its owner; its ephemeral keys were deleted. Terminal.</summary>
    Closed,
}
