namespace ControlPlane.Etcd;

/// <summary>
/// A failed etcd call. <see cref="StatusCode"/> is the gRPC status the server (or the transport) reported
/// and <see cref="Exception.Message"/> is etcd's own message (e.g. "etcdserver: requested lease not found").
/// Subclasses mark the cases a caller usually handles differently: <see cref="EtcdUnavailableException"/>,
/// <see cref="EtcdCompactedException"/>, <see cref="EtcdAuthenticationException"/> and <see cref="EtcdTimeoutException"/>.
/// </summary>
public class EtcdException : Exception
{
    /// <summary>Creates an exception for a gRPC status and message.</summary>
    /// <param name="statusCode">The gRPC status code.</param>
    /// <param name="message">The server's (decoded) message, or the client's description.</param>
    /// <param name="innerException">The transport failure behind this one, if any.</param>
    public EtcdException(GrpcStatusCode statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The gRPC status code of the failure.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>Builds the most specific exception type for a status (used for server-reported statuses).</summary>
    /// <param name="statusCode">The gRPC status code.</param>
    /// <param name="message">The decoded <c>grpc-message</c>.</param>
    /// <param name="innerException">An underlying failure, if any.</param>
    /// <returns>The exception to throw.</returns>
    public static EtcdException FromStatus(GrpcStatusCode statusCode, string message, Exception? innerException = null) => statusCode switch
    {
        GrpcStatusCode.Unavailable => new EtcdUnavailableException(message, innerException),
        GrpcStatusCode.DeadlineExceeded => new EtcdTimeoutException(message, innerException),
        GrpcStatusCode.Unauthenticated => new EtcdAuthenticationException(message, innerException),
        // etcd reports both "compacted" and "future revision" as OutOfRange; only the first is a compaction.
        GrpcStatusCode.OutOfRange when message.Contains("compacted", StringComparison.Ordinal) => new EtcdCompactedException(message, 0, innerException),
        _ => new EtcdException(statusCode, message, innerException),
    };
}

/// <summary>The cluster (or the member tried) could not serve the call: no leader, leader changed, connection
/// refused or broken. For a write it may or may not have been applied unless the message says it was not sent.</summary>
public class EtcdUnavailableException : EtcdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport failure, if any.</param>
    public EtcdUnavailableException(string message, Exception? innerException = null)
        : base(GrpcStatusCode.Unavailable, message, innerException) { }
}

/// <summary>
/// The TLS handshake with an endpoint failed, or the endpoint ended the TLS session at once: its certificate was
/// not trusted or named another host, it refused the client's certificate, or it does not speak TLS on that port.
/// The message says which endpoint and why. Nothing was sent. A wrong CA or certificate will not fix itself, but
/// the client cannot tell that from a member being re-keyed, so callers retry with backoff as for any
/// <see cref="EtcdUnavailableException"/> and log this each time.
/// </summary>
public sealed class EtcdTlsException : EtcdUnavailableException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which endpoint, and what the TLS layer said.</param>
    /// <param name="innerException">The transport failure.</param>
    public EtcdTlsException(string message, Exception? innerException = null)
        : base(message, innerException) { }
}

/// <summary>The call ran out of time (client deadline or server timeout). The outcome of a write is unknown:
/// read before retrying it.</summary>
public sealed class EtcdTimeoutException : EtcdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What timed out.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public EtcdTimeoutException(string message, Exception? innerException = null)
        : base(GrpcStatusCode.DeadlineExceeded, message, innerException) { }
}

/// <summary>The credentials were rejected, or re-authentication after an expired token failed.</summary>
public sealed class EtcdAuthenticationException : EtcdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">etcd's message, e.g. "etcdserver: authentication failed, invalid user ID or password".</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public EtcdAuthenticationException(string message, Exception? innerException = null)
        : base(GrpcStatusCode.Unauthenticated, message, innerException) { }
}

/// <summary>
/// The requested revision has been compacted away. For a watch this ends the watch: the caller must re-list
/// (Range), then watch again from the range's header revision + 1. <see cref="CompactRevision"/> is the
/// oldest revision still available when the server said so (0 when only the message told us).
/// </summary>
public sealed class EtcdCompactedException : EtcdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was compacted.</param>
    /// <param name="compactRevision">The compaction revision the server reported, or 0.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public EtcdCompactedException(string message, long compactRevision, Exception? innerException = null)
        : base(GrpcStatusCode.OutOfRange, message, innerException)
    {
        CompactRevision = compactRevision;
    }

    /// <summary>The revision the store was compacted at; events before it are gone.</summary>
    public long CompactRevision { get; }
}
