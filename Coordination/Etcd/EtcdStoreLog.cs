using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Log lines of the etcd coordination store (event ids 1301–1399; stable, operators filter on them).</summary>
internal static partial class EtcdStoreLog
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "etcd session opened: lease {LeaseId:x} with a TTL of {TtlSeconds} s")]
    public static partial void SessionOpened(ILogger logger, long leaseId, double ttlSeconds);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "etcd session (lease {LeaseId:x}) ended as {State}; opening a new one")]
    public static partial void SessionReplaced(ILogger logger, long leaseId, SessionState state);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "etcd session closed: lease {LeaseId:x} revoked")]
    public static partial void SessionClosed(ILogger logger, long leaseId);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Could not revoke lease {LeaseId:x}; it expires after its TTL")]
    public static partial void RevokeFailed(ILogger logger, Exception exception, long leaseId);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Granting the lease of a new etcd session failed (attempt {Attempt}); retrying")]
    public static partial void GrantFailed(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Information, Message = "Watch of {Prefix} resyncs at revision {Revision} ({Count} keys): {Reason}")]
    public static partial void WatchResync(ILogger logger, string prefix, long revision, int count, string reason);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Watch of {Prefix} failed; following again from revision {Revision}")]
    public static partial void WatchRestarting(ILogger logger, Exception exception, string prefix, long revision);

    [LoggerMessage(EventId = 1330, Level = LogLevel.Critical, Message = "etcd went back in time: it answered {What} at revision {Revision}, below revision {Seen} this process has already seen (restored from a backup?). The store is no longer used by this process; restart it once the restore is intended")]
    public static partial void RolledBack(ILogger logger, long revision, long seen, string what);

    [LoggerMessage(EventId = 1320, Level = LogLevel.Warning, Message = "Commit outcome unknown after {Operations} operations were sent")]
    public static partial void CommitOutcomeUnknown(ILogger logger, Exception exception, int operations);
}
