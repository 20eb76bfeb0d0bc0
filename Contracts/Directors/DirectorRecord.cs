namespace ControlPlane.Contracts.Directors;

/// <summary>
/// A director's ephemeral record at <c>directors/members/&lt;directorId&gt;</c>; the same JSON is its election
/// candidate value, so the leader's URL can be read from the election alone.
/// </summary>
public sealed record DirectorRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>Director id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Base URL of its REST API.</summary>
    public string Url { get; init; } = "";

    /// <summary>Build version.</summary>
    public string Version { get; init; } = "";

    /// <summary>When it started (its clock).</summary>
    public DateTimeOffset StartedAt { get; init; }
}

/// <summary><c>GET /v1/leader</c>.</summary>
/// <param name="DirectorId">The leader's id.</param>
/// <param name="Url">Its API URL.</param>
/// <param name="Epoch">Its epoch (creation revision of its candidate key).</param>
/// <param name="Since">When it registered its candidacy (its clock).</param>
public sealed record LeaderView(string DirectorId, string Url, long Epoch, DateTimeOffset Since);

/// <summary><c>GET /v1/cluster</c>.</summary>
/// <param name="Directors">Live directors.</param>
/// <param name="Leader">The leader, if one is elected.</param>
/// <param name="Store">The store.</param>
public sealed record ClusterView(IReadOnlyList<DirectorRecord> Directors, LeaderView? Leader, StoreView Store);

/// <summary>The store as a director sees it.</summary>
/// <param name="Backend"><c>zookeeper</c> or <c>etcd</c>.</param>
/// <param name="Members">Configured endpoints.</param>
/// <param name="Root">Key root.</param>
/// <param name="Revision">Current revision (read through a barrier).</param>
/// <param name="SessionState">This director's session state.</param>
/// <param name="SessionTimeoutSeconds">Negotiated session timeout.</param>
public sealed record StoreView(string Backend, IReadOnlyList<string> Members, string Root, long Revision, string SessionState, double SessionTimeoutSeconds);
