using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.Internal;

/// <summary>Every log line of the coordination layer; event ids are stable (operators filter on them).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Candidate {Key} registered at revision {Revision} in {ElectionKey}")]
    public static partial void CandidateRegistered(ILogger logger, string key, long revision, string electionKey);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Candidate {Key} adopted after a create whose outcome was unknown")]
    public static partial void CandidateAdopted(ILogger logger, string key);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Leading {ElectionKey} with epoch {Epoch} as {Key}")]
    public static partial void BecameLeader(ILogger logger, string electionKey, long epoch, string key);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Stopped leading {ElectionKey} (epoch {Epoch}): {Reason}")]
    public static partial void SteppedDown(ILogger logger, string electionKey, long epoch, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Candidate {Key} waits for its predecessor {Predecessor}")]
    public static partial void WaitingForPredecessor(ILogger logger, string key, string predecessor);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Election step failed in {ElectionKey}; retrying")]
    public static partial void CampaignStepFailed(ILogger logger, Exception exception, string electionKey);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Fenced write refused: leadership of {ElectionKey} (epoch {Epoch}) is lost")]
    public static partial void FencedWriteRefused(ILogger logger, string electionKey, long epoch);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Deleting candidate key {Key} on resign failed; retrying until the session ends")]
    public static partial void ResignRetry(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Election {ElectionKey}: {Budget}")]
    public static partial void FailoverBudget(ILogger logger, string electionKey, string budget);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Resigned from {ElectionKey}")]
    public static partial void Resigned(ILogger logger, string electionKey);
}
