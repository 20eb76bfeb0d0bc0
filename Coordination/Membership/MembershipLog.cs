using Microsoft.Extensions.Logging;

namespace ControlPlane.Coordination.Membership;

internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Registered member {Key} on session {SessionId:x}")]
    public static partial void Registered(ILogger logger, string key, long sessionId);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Member {Key} unregistered: {Reason}; registering again")]
    public static partial void Lost(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Registering member {Key} failed; retrying")]
    public static partial void RegistrationFailed(ILogger logger, Exception exception, string key);
}
