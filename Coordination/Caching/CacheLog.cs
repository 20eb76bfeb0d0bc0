using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.Caching;

internal static partial class CacheLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Cache of {Prefix} resynced: {Count} keys at revision {Revision}")]
    public static partial void Resynced(ILogger logger, string prefix, int count, long revision);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Watch of {Prefix} failed at revision {Revision}; following again")]
    public static partial void WatchFailed(ILogger logger, Exception exception, string prefix, long revision);
}
