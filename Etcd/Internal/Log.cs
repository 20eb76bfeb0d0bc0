using Microsoft.Extensions.Logging;

namespace ControlPlane.Etcd.Internal;

/// <summary>Source-generated log messages. Event ids and method names are a contract for log queries.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "etcd {Method} on {Endpoint} failed ({Reason}); retrying (attempt {Attempt})")]
    public static partial void CallRetrying(ILogger logger, string method, Uri endpoint, string reason, int attempt);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "etcd endpoint {Endpoint} failed, now preferring {Next}")]
    public static partial void EndpointFailed(ILogger logger, Uri endpoint, Uri next);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "etcd authenticated as {User}")]
    public static partial void Authenticated(ILogger logger, string user);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "etcd token rejected ({Reason}); re-authenticating")]
    public static partial void TokenRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "etcd watch stream opened on {Endpoint}")]
    public static partial void WatchStreamOpened(ILogger logger, Uri endpoint);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "etcd watch stream on {Endpoint} broke; resuming {Count} watches")]
    public static partial void WatchStreamBroken(ILogger logger, Uri endpoint, int count, Exception exception);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "etcd watch stream could not open on {Endpoint}; retrying in {Delay}")]
    public static partial void WatchStreamOpenFailed(ILogger logger, Uri endpoint, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Debug, Message = "etcd watch {WatchId} on {Key} created at revision {Revision} (next {Next})")]
    public static partial void WatchCreated(ILogger logger, long watchId, string key, long revision, long next);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Warning, Message = "etcd watch on {Key} ended: {Reason}")]
    public static partial void WatchEnded(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Information, Message = "etcd watch on {Key} compacted at {CompactRevision}; caller must re-list")]
    public static partial void WatchCompacted(ILogger logger, string key, long compactRevision);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "etcd keepalive stream opened on {Endpoint}")]
    public static partial void KeepAliveStreamOpened(ILogger logger, Uri endpoint);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "etcd keepalive stream on {Endpoint} broke")]
    public static partial void KeepAliveStreamBroken(ILogger logger, Uri endpoint, Exception exception);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Warning, Message = "etcd lease {LeaseId:x} lost: {Reason}")]
    public static partial void LeaseLost(ILogger logger, long leaseId, string reason);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Debug, Message = "etcd lease {LeaseId:x} granted with TTL {Ttl} s")]
    public static partial void LeaseGranted(ILogger logger, long leaseId, long ttl);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "etcd TLS with {Endpoint} failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, Uri endpoint, string reason);
}
