using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>
/// Events of one watch response, in revision order (all events of a revision arrive in the same batch), or a
/// progress notification: no events, and <see cref="Revision"/> says the watch has seen everything up to it.
/// </summary>
public sealed class EtcdWatchBatch
{
    internal EtcdWatchBatch(long revision, ulong memberId, IReadOnlyList<Event> events)
    {
        Revision = revision;
        MemberId = memberId;
        Events = events;
    }

    /// <summary>The store revision when the server sent the batch (≥ every event's mod revision).</summary>
    public long Revision { get; }

    /// <summary>Id of the member that served the batch (see <see cref="EtcdClient.MemberListAsync"/>).</summary>
    public ulong MemberId { get; }

    /// <summary>The events; empty for a progress notification.</summary>
    public IReadOnlyList<Event> Events { get; }

    /// <summary>True when this is a progress notification rather than events.</summary>
    public bool IsProgressNotification => Events.Count == 0;
}
