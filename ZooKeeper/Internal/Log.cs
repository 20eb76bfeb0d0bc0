using Microsoft.Extensions.Logging;

namespace ControlPlane.ZooKeeper.Internal;

/// <summary>The client's log messages. Event ids and method names are stable: dashboards and alerts key on them.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "ZooKeeper session 0x{SessionId:x} connected to {Server} (timeout {TimeoutMs} ms, reconnect: {IsReconnect})")]
    public static partial void Connected(ILogger logger, long sessionId, string server, int timeoutMs, bool isReconnect);

    [LoggerMessage(2, LogLevel.Warning, "ZooKeeper server granted a session timeout of {NegotiatedMs} ms instead of the requested {RequestedMs} ms (clamped to its min/max session timeout)")]
    public static partial void TimeoutNegotiated(ILogger logger, int requestedMs, int negotiatedMs);

    [LoggerMessage(3, LogLevel.Warning, "ZooKeeper session 0x{SessionId:x} lost its connection to {Server}: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, long sessionId, string server, string reason);

    [LoggerMessage(4, LogLevel.Information, "ZooKeeper server {Server} closed the handshake without answering (behind our zxid 0x{LastZxid:x}, or not serving); trying another")]
    public static partial void HandshakeRefused(ILogger logger, string server, long lastZxid);

    [LoggerMessage(5, LogLevel.Debug, "Connecting to ZooKeeper server {Server} failed: {Reason}")]
    public static partial void ConnectAttemptFailed(ILogger logger, string server, string reason);

    [LoggerMessage(6, LogLevel.Warning, "ZooKeeper session 0x{SessionId:x} expired: {Reason}")]
    public static partial void SessionExpired(ILogger logger, long sessionId, string reason);

    [LoggerMessage(7, LogLevel.Information, "ZooKeeper session 0x{SessionId:x} state {Previous} -> {State}")]
    public static partial void StateChanged(ILogger logger, long sessionId, ConnectionState previous, ConnectionState state);

    [LoggerMessage(8, LogLevel.Debug, "ZooKeeper session 0x{SessionId:x} re-registering {Count} watches from zxid 0x{RelativeZxid:x}")]
    public static partial void ReregisteringWatches(ILogger logger, long sessionId, int count, long relativeZxid);

    [LoggerMessage(9, LogLevel.Warning, "ZooKeeper watch on {Path} ended: its reader fell behind the bounded event buffer")]
    public static partial void WatchOverflowed(ILogger logger, string path);

    [LoggerMessage(10, LogLevel.Error, "ZooKeeper server rejected authentication (code {Code})")]
    public static partial void AuthFailed(ILogger logger, ErrorCode code);

    [LoggerMessage(11, LogLevel.Warning, "ZooKeeper server rejected watch re-registration (code {Code})")]
    public static partial void SetWatchesFailed(ILogger logger, ErrorCode code);

    [LoggerMessage(12, LogLevel.Information, "ZooKeeper session 0x{SessionId:x} closed")]
    public static partial void Closed(ILogger logger, long sessionId);

    [LoggerMessage(13, LogLevel.Information, "Protected create adopted {Path}, created before the reply was lost")]
    public static partial void ProtectedCreateAdopted(ILogger logger, string path);

    [LoggerMessage(14, LogLevel.Warning, "Every ZooKeeper server refused or failed the handshake for a full round ({Servers} servers); backing off")]
    public static partial void AllServersFailed(ILogger logger, int servers);

    [LoggerMessage(15, LogLevel.Warning, "ZooKeeper connection to {Server} failed at TLS: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string server, string reason);
}
