using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.ZooKeeper;

internal static partial class ZooKeeperStoreLog
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "ZooKeeper store session {SessionId:x} open, timeout {TimeoutMs} ms")]
    public static partial void SessionOpened(ILogger logger, long sessionId, double timeoutMs);

    [LoggerMessage(EventId = 1340, Level = LogLevel.Critical, Message = "ZooKeeper went back in time: every server of {Servers} is at zxid 0x{Newest:x} or below, behind zxid 0x{Seen:x} this process has already seen (restored from a backup?). The store is no longer used by this process; restart it once the restore is intended")]
    public static partial void RolledBack(ILogger logger, long newest, long seen, string servers);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "ZooKeeper store session {SessionId:x} ended; opening a new one")]
    public static partial void SessionReplaced(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Opening a ZooKeeper session failed; retrying in about {DelayMs} ms")]
    public static partial void OpenFailed(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Watch of {Path} restarts: {Reason}")]
    public static partial void WatchRestarting(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Watch of {Path} re-reads its subtree: {Reason}")]
    public static partial void WatchResyncing(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Information,
        Message = "Watch of {Path} listed {Keys} keys with {Requests} requests in {ElapsedMs:0} ms; {Backlog} changed keys notified meanwhile wait to be read")]
    public static partial void WatchListed(ILogger logger, string path, int keys, long requests, double elapsedMs, int backlog);
}
