namespace ControlPlane.Agents.Diagnostics;

/// <summary>The agent's log messages. Event ids 7001-7099 are stable; method names are part of the contract.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Worker {WorkerId} registered in cell {Cell} on session {SessionId:x}: {Slots} slots, executors [{Executors}], features [{Features}]")]
    public static partial void Registered(ILogger logger, string workerId, string cell, long sessionId, int slots, string executors, string features);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Started {Key} ({Executor}, epoch {Epoch})")]
    public static partial void AttemptStarted(ILogger logger, string key, string executor, long epoch);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Ended {Key}: {State} (exit code {ExitCode})")]
    public static partial void AttemptEnded(ILogger logger, string key, string state, int? exitCode);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Result rejected: the assignment {Key} no longer exists (the attempt was taken back); the {State} report is dropped")]
    public static partial void ReportRejected(ILogger logger, string key, string state);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Critical, Message = "SELF-FENCING: session {SessionId:x} is provably alive for only {AliveMs} ms (margin {MarginMs} ms); killed {Count} running job(s) and starting nothing until the session is healthy")]
    public static partial void Fenced(ILogger logger, long sessionId, long aliveMs, long marginMs, int count);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "Session {SessionId:x} is healthy again after self-fencing; the killed attempts are reported Lost")]
    public static partial void Unfenced(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "Assignment {Key} cannot be parsed and is left alone (the leader takes it back): {Reason}")]
    public static partial void Unparseable(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Warning, Message = "Draining ({Cause}): starting nothing new, letting {Running} running attempt(s) finish for up to {TimeoutSeconds} s")]
    public static partial void DrainStarted(ILogger logger, string cause, int running, double timeoutSeconds);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Warning, Message = "Drain timeout: stopping {Count} attempt(s); they are reported Lost and run elsewhere")]
    public static partial void DrainStopping(ILogger logger, int count);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "Worker {WorkerId} drained; deregistering")]
    public static partial void Drained(ILogger logger, string workerId);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Debug, Message = "Report of {Key} not written yet ({Outcome}); retrying")]
    public static partial void ReportRetry(ILogger logger, string key, string outcome);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Error, Message = "Gave up reporting {State} for {Key} after {Seconds} s; the leader takes the attempt back")]
    public static partial void ReportAbandoned(ILogger logger, string key, string state, double seconds);

    [LoggerMessage(EventId = 7013, Level = LogLevel.Warning, Message = "Attempt {Key} cannot run here: {Error}")]
    public static partial void CannotStart(ILogger logger, string key, string error);

    [LoggerMessage(EventId = 7014, Level = LogLevel.Information, Message = "Assignment {Key} was withdrawn while running: stopping it, reporting nothing")]
    public static partial void Withdrawn(ILogger logger, string key);

    [LoggerMessage(EventId = 7015, Level = LogLevel.Information, Message = "Cancellation requested for {Key}: stopping it")]
    public static partial void CancelRequested(ILogger logger, string key);

    [LoggerMessage(EventId = 7016, Level = LogLevel.Warning, Message = "Assignment {Key} says Running on this session but nothing runs it here: reporting Lost")]
    public static partial void Orphan(ILogger logger, string key);

    [LoggerMessage(EventId = 7017, Level = LogLevel.Warning, Message = "An execution observer failed")]
    public static partial void ObserverFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7018, Level = LogLevel.Critical, Message = "The agent's {Loop} loop failed; the agent stops")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(EventId = 7019, Level = LogLevel.Error, Message = "Shutdown could not wait any longer: killed {Count} attempt(s) without reporting them")]
    public static partial void Aborted(ILogger logger, int count);

    [LoggerMessage(EventId = 7020, Level = LogLevel.Warning, Message = "Could not mark worker {WorkerId} draining in its registration")]
    public static partial void DrainMarkFailed(ILogger logger, string workerId);

    [LoggerMessage(EventId = 7021, Level = LogLevel.Information, Message = "Attempt {Key} timed out after {Seconds} s: stopping it")]
    public static partial void TimedOut(ILogger logger, string key, int seconds);

    [LoggerMessage(EventId = 7022, Level = LogLevel.Information, Message = "Waiting for the store ({Backend}) before registering worker {WorkerId}")]
    public static partial void WaitingForStore(ILogger logger, string backend, string workerId);

    [LoggerMessage(EventId = 7023, Level = LogLevel.Warning, Message = "Beat of worker {WorkerId} not written ({Reason}); the next beat tries again")]
    public static partial void BeatFailed(ILogger logger, string workerId, string reason);

    [LoggerMessage(EventId = 7024, Level = LogLevel.Warning, Message = "Drain of {WorkerId} taken back (its drain record was deleted) with {Running} attempt(s) still running: taking work again")]
    public static partial void DrainTakenBack(ILogger logger, string workerId, int running);

    [LoggerMessage(EventId = 7025, Level = LogLevel.Information, Message = "Serving /metrics and /healthz on http://{Address}:{Port}/")]
    public static partial void HttpListening(ILogger logger, string address, int port);

    [LoggerMessage(EventId = 7026, Level = LogLevel.Debug, Message = "A request to the agent's HTTP port failed before its answer was written")]
    public static partial void HealthRequestFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7027, Level = LogLevel.Critical, Message = "SELF-FENCING: no beat acknowledged for {SilenceMs} ms (beat lease {LeaseMs} ms) although the session lives; killed {Count} running job(s) and starting nothing until a beat is acknowledged")]
    public static partial void BeatFenced(ILogger logger, long silenceMs, long leaseMs, int count);

    [LoggerMessage(EventId = 7028, Level = LogLevel.Warning, Message = "Registering cell {Cell} in the store failed; retrying")]
    public static partial void CellRegistrationRetry(ILogger logger, Exception exception, string cell);

    [LoggerMessage(EventId = 7040, Level = LogLevel.Information, Message = "Worker {WorkerId}: rolled-out features now [{Features}] (were [{Before}])")]
    public static partial void RolledOutFeatures(ILogger logger, string workerId, string features, string before);
}
