namespace ControlPlane.ZooKeeper;

/// <summary>A node's metadata as the server reports it (jute <c>Stat</c>, 68 bytes on the wire).</summary>
/// <param name="Czxid">The zxid of the transaction that created the node.</param>
/// <param name="Mzxid">The zxid of the last data change.</param>
/// <param name="Ctime">Creation time, milliseconds since the Unix epoch (server clock).</param>
/// <param name="Mtime">Last modification time, milliseconds since the Unix epoch (server clock).</param>
/// <param name="Version">Data version: pass it to SetData/Delete/Check for optimistic concurrency.</param>
/// <param name="Cversion">Children version; also the next sequential suffix under this node.</param>
/// <param name="Aversion">ACL version.</param>
/// <param name="EphemeralOwner">Owning session id of an ephemeral node, 0 otherwise (3.8 servers report 0 for
/// container and TTL nodes too, although they keep a marker internally).</param>
/// <param name="DataLength">Length of the data in bytes.</param>
/// <param name="NumChildren">Number of children.</param>
/// <param name="Pzxid">The zxid of the last change to the children list.</param>
public sealed record Stat(
    long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion,
    long EphemeralOwner, int DataLength, int NumChildren, long Pzxid)
{
    /// <summary>True when the node is an ephemeral owned by a session. Marker owners that older servers exposed
    /// for container (0x80…) and TTL (0xFF…) nodes are not sessions and do not count.</summary>
    public bool IsEphemeral => EphemeralOwner != 0 && (EphemeralOwner >>> 56) is not (0x80 or 0xFF);
}
