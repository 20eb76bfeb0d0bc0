namespace ControlPlane.Director.Scheduling;

/// <summary>Scheduler log messages; event ids 760–799 are stable (the API uses 700–749, the runtime 750–759).</summary>
internal static partial class SchedulerLog
{
    [LoggerMessage(EventId = 761, Level = LogLevel.Information, Message = "Scheduling as leader with epoch {Epoch}")]
    public static partial void Leading(ILogger logger, long epoch);

    [LoggerMessage(EventId = 762, Level = LogLevel.Information, Message = "Stopped scheduling (epoch {Epoch}): {Reason}")]
    public static partial void Stopped(ILogger logger, long epoch, string reason);

    [LoggerMessage(EventId = 763, Level = LogLevel.Error, Message = "Store record {Key} is quarantined (logged once, left in place): {Reason}")]
    public static partial void RecordQuarantined(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 764, Level = LogLevel.Information, Message = "Job {JobId}: {Kind} ({Detail})")]
    public static partial void JobWrite(ILogger logger, string? jobId, WriteKind kind, string detail);

    [LoggerMessage(EventId = 765, Level = LogLevel.Debug, Message = "A batch of {Count} writes was refused at operation {FailedIndex}; replanning from fresh state")]
    public static partial void BatchRefused(ILogger logger, int count, int failedIndex);

    [LoggerMessage(EventId = 766, Level = LogLevel.Warning, Message = "A batch of {Count} writes has an unknown outcome; replanning from fresh state")]
    public static partial void BatchOutcomeUnknown(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 767, Level = LogLevel.Warning, Message = "Reconciliation pass failed; retrying")]
    public static partial void PassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 768, Level = LogLevel.Debug, Message = "Pass: {Writes} writes, {Pending} pending, {Unplaceable} waiting for a suitable worker")]
    public static partial void Pass(ILogger logger, int writes, int pending, int unplaceable);

    [LoggerMessage(EventId = 770, Level = LogLevel.Error, Message = "A planned write for job {JobId} ({Kind}: {Detail}) breaks a transaction limit even alone; skipped")]
    public static partial void WriteUnbuildable(ILogger logger, Exception exception, string? jobId, WriteKind kind, string detail);

    [LoggerMessage(EventId = 771, Level = LogLevel.Error, Message = "Reconciliation pass failed unexpectedly; the next pass retries, and the watchdog resigns if none succeeds")]
    public static partial void PassCrashed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 769, Level = LogLevel.Information, Message = "Worker {WorkerId}: {Detail}")]
    public static partial void WorkerWrite(ILogger logger, string workerId, string detail);

    [LoggerMessage(EventId = 772, Level = LogLevel.Error, Message = "Self-check: the leader's incremental state differs from a rebuild from its caches (first differences: {Differences}); adopting the rebuild")]
    public static partial void SelfCheckFailed(ILogger logger, string differences);
}
