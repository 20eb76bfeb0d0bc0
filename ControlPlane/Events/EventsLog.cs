namespace ControlPlane.Director.Events;

/// <summary>The event stream's log messages; event ids 744–748 are stable (in the API's range).</summary>
internal static partial class EventsLog
{
    [LoggerMessage(EventId = 744, Level = LogLevel.Information, Message = "Event stream follows the store from revision {Revision} ({Items} records listed)")]
    public static partial void Following(ILogger logger, long revision, int items);

    [LoggerMessage(EventId = 745, Level = LogLevel.Warning, Message = "Event stream: the store watch restarted with a full listing at revision {Revision}; {Subscribers} subscriber(s) sent a resync")]
    public static partial void Resynced(ILogger logger, long revision, int subscribers);

    [LoggerMessage(EventId = 746, Level = LogLevel.Warning, Message = "Event stream: the store watch failed at revision {Revision}; following again")]
    public static partial void WatchFailed(ILogger logger, Exception exception, long revision);

    [LoggerMessage(EventId = 747, Level = LogLevel.Information, Message = "Event subscriber cut off: {Reason}")]
    public static partial void CutOff(ILogger logger, string reason);

    [LoggerMessage(EventId = 748, Level = LogLevel.Warning, Message = "Event stream: change of {Key} at revision {Revision} arrived after revision {Released} was released; sent with revision {Released}")]
    public static partial void LateChange(ILogger logger, string key, long revision, long released);
}
