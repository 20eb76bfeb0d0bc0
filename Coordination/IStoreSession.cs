namespace ControlPlane.Coordination;

/// <summary>
/// The session that ephemeral keys hang on: a ZooKeeper session or an etcd lease kept alive by the client.
/// </summary>
/// <remarks>
/// A session is used by one <see cref="ICoordinationStore"/>. Once <see cref="State"/> is
/// <see cref="SessionState.Lost"/> or <see cref="SessionState.Closed"/> it never changes again; the store
/// then opens a new session for later work and recipes re-create their ephemeral keys on it. A store hands
/// out the same object for as long as the session lives, so reference equality tells sessions apart.
/// </remarks>
public interface IStoreSession
{
    /// <summary>The ZooKeeper session id or etcd lease id.</summary>
    long Id { get; }

    /// <summary>The negotiated session timeout (ZooKeeper) or granted lease TTL (etcd).</summary>
    TimeSpan Timeout { get; }

    /// <summary>The session timeout or lease TTL this process asked for; <see cref="Timeout"/> may differ (ZooKeeper
    /// clamps it to the server's bounds), which the failover budget reports.</summary>
    TimeSpan RequestedTimeout { get; }

    /// <summary>The state now.</summary>
    SessionState State { get; }

    /// <summary>
    /// How long the store is certain to keep this session alive from now: <see cref="Timeout"/> minus the
    /// time since the <em>send</em> of the last request the store acknowledged. Zero or negative once the
    /// store may have expired it. Work that must not outlive the session (leading, running a job) stops
    /// while this is still above its safety margin.
    /// </summary>
    TimeSpan ProvablyAliveFor { get; }

    /// <summary>Completes when the session is <see cref="SessionState.Lost"/> or <see cref="SessionState.Closed"/>.</summary>
    Task Ended { get; }

    /// <summary>The current state, then every change, in order, until the session ends or
    /// <paramref name="cancellationToken"/> fires. A slow reader never blocks the session.</summary>
    IAsyncEnumerable<SessionState> WatchStateAsync(CancellationToken cancellationToken = default);
}
