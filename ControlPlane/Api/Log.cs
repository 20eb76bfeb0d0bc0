namespace ControlPlane.Director.Api;

/// <summary>The director API's log messages; event ids 700–749 are stable (the rest of the 700s are left to the director runtime).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Warning, Message = "No Auth:Tokens configured: the /v1 API accepts requests without a token. Configure tokens before exposing the director on a network.")]
    public static partial void AuthDisabled(ILogger logger);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Director {DirectorId} serves the API with {TokenCount} token(s) ({ReadOnlyCount} read-only)")]
    public static partial void AuthEnabled(ILogger logger, string directorId, int tokenCount, int readOnlyCount);

    [LoggerMessage(EventId = 710, Level = LogLevel.Warning, Message = "The store is unavailable for {Method} {Path}: {Reason}")]
    public static partial void StoreUnavailable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(EventId = 711, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 720, Level = LogLevel.Information, Message = "Accepted job {JobId} ({Executor}) at revision {Revision}")]
    public static partial void JobAccepted(ILogger logger, string jobId, string executor, long revision);

    [LoggerMessage(EventId = 721, Level = LogLevel.Information, Message = "Replayed submission with idempotency key hash {KeyHash}: job {JobId}")]
    public static partial void JobReplayed(ILogger logger, string keyHash, string jobId);

    [LoggerMessage(EventId = 722, Level = LogLevel.Warning, Message = "Submission of job {JobId} has an unknown outcome (attempt {Attempt}); retrying with its idempotency record")]
    public static partial void SubmitOutcomeUnknown(ILogger logger, string jobId, int attempt);

    [LoggerMessage(EventId = 723, Level = LogLevel.Information, Message = "Cancellation of job {JobId} requested (was {State})")]
    public static partial void CancelRequested(ILogger logger, string jobId, string state);

    [LoggerMessage(EventId = 724, Level = LogLevel.Information, Message = "Drain of worker {WorkerId} requested")]
    public static partial void DrainRequested(ILogger logger, string workerId);

    [LoggerMessage(EventId = 726, Level = LogLevel.Information, Message = "Drain of worker {WorkerId} taken back")]
    public static partial void UndrainRequested(ILogger logger, string workerId);

    [LoggerMessage(EventId = 725, Level = LogLevel.Warning, Message = "Left out {Key} from a listing: its record cannot be read")]
    public static partial void UnreadableRecord(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 730, Level = LogLevel.Warning, Message = "The queue status record {Key} cannot be read, so admission control refuses nothing until the leader rewrites it: {Reason}")]
    public static partial void QueueStatusUnreadable(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 731, Level = LogLevel.Warning, Message = "Refusing new jobs (429): the leader counts {Pending} pending jobs and {Setting} is {Limit}")]
    public static partial void AdmissionClosed(ILogger logger, int pending, string setting, int limit);

    [LoggerMessage(EventId = 732, Level = LogLevel.Information, Message = "Accepting new jobs again: {Setting} is {Limit} and the leader's count is below it or unknown ({Pending})")]
    public static partial void AdmissionReopened(ILogger logger, string setting, int limit, string pending);

    [LoggerMessage(EventId = 740, Level = LogLevel.Information, Message = "Created schedule {ScheduleId} ({Cron} in {TimeZone}) at revision {Revision}")]
    public static partial void ScheduleCreated(ILogger logger, string scheduleId, string cron, string timeZone, long revision);

    [LoggerMessage(EventId = 741, Level = LogLevel.Information, Message = "Changed schedule {ScheduleId} (paused: {Paused})")]
    public static partial void ScheduleChanged(ILogger logger, string scheduleId, bool paused);

    [LoggerMessage(EventId = 742, Level = LogLevel.Information, Message = "Deleted schedule {ScheduleId}")]
    public static partial void ScheduleDeleted(ILogger logger, string scheduleId);

    [LoggerMessage(EventId = 743, Level = LogLevel.Information, Message = "Triggered schedule {ScheduleId} by hand: job {JobId}")]
    public static partial void ScheduleTriggered(ILogger logger, string scheduleId, string jobId);

    [LoggerMessage(EventId = 733, Level = LogLevel.Information, Message = "Accepted workflow {WorkflowId} of {Jobs} jobs in {Chunks} chunks at revision {Revision}")]
    public static partial void WorkflowAccepted(ILogger logger, string workflowId, int jobs, int chunks, long revision);

    [LoggerMessage(EventId = 734, Level = LogLevel.Warning, Message = "Workflow {WorkflowId} was not committed: {Reason}")]
    public static partial void WorkflowNotCommitted(ILogger logger, string workflowId, string reason);

    [LoggerMessage(EventId = 735, Level = LogLevel.Information, Message = "Workflow {WorkflowId}: cancellation requested; {Cancelled} of its jobs cancelled or asked to stop")]
    public static partial void WorkflowCancelled(ILogger logger, string workflowId, int cancelled);
}
