using Microsoft.Extensions.Logging;

namespace ControlPlane.Director.Scheduling;

/// <summary>Scheduler log messages; event ids 700–799 are stable.</summary>
internal static partial class SchedulerLog
{
    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Scheduling as leader with epoch {Epoch}")]
    public static partial void Leading(ILogger logger, long epoch);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "Stopped scheduling (epoch {Epoch}): {Reason}")]
    public static partial void Stopped(ILogger logger, long epoch, string reason);

    [LoggerMessage(EventId = 703, Level = LogLevel.Error, Message = "Store record {Key} is quarantined (logged once, left in place): {Reason}")]
    public static partial void RecordQuarantined(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 704, Level = LogLevel.Information, Message = "Job {JobId}: {Kind} ({Detail})")]
    public static partial void JobWrite(ILogger logger, string? jobId, WriteKind kind, string detail);

    [LoggerMessage(EventId = 705, Level = LogLevel.Debug, Message = "A batch of {Count} writes was refused at operation {FailedIndex}; replanning from fresh state")]
    public static partial void BatchRefused(ILogger logger, int count, int failedIndex);

    [LoggerMessage(EventId = 706, Level = LogLevel.Warning, Message = "A batch of {Count} writes has an unknown outcome; replanning from fresh state")]
    public static partial void BatchOutcomeUnknown(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 707, Level = LogLevel.Warning, Message = "Reconciliation pass failed; retrying")]
    public static partial void PassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 708, Level = LogLevel.Debug, Message = "Pass: {Writes} writes, {Pending} pending, {Unplaceable} waiting for a suitable worker")]
    public static partial void Pass(ILogger logger, int writes, int pending, int unplaceable);

    [LoggerMessage(EventId = 709, Level = LogLevel.Information, Message = "Worker {WorkerId}: {Detail}")]
    public static partial void WorkerWrite(ILogger logger, string workerId, string detail);
}
