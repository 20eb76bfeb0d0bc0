namespace ControlPlane.Etcd;

/// <summary>The gRPC status codes (grpc/doc/statuscodes.md) as carried in <c>grpc-status</c>.</summary>
public enum GrpcStatusCode
{
    /// <summary>Success.</summary>
    OK = 0,
    /// <summary>The call was cancelled, usually by the caller.</summary>
    Cancelled = 1,
    /// <summary>Unknown error, e.g. a status the server did not classify.</summary>
    Unknown = 2,
    /// <summary>The request is invalid (etcd: key not provided, too many txn ops, duplicate key, request too large).</summary>
    InvalidArgument = 3,
    /// <summary>The deadline expired before the operation completed; a write's outcome is unknown.</summary>
    DeadlineExceeded = 4,
    /// <summary>Something was not found (etcd: lease not found).</summary>
    NotFound = 5,
    /// <summary>The entity already exists.</summary>
    AlreadyExists = 6,
    /// <summary>The caller lacks permission (etcd auth roles).</summary>
    PermissionDenied = 7,
    /// <summary>A resource is exhausted (etcd: database space exceeded, too many requests).</summary>
    ResourceExhausted = 8,
    /// <summary>The system is not in a state required for the operation.</summary>
    FailedPrecondition = 9,
    /// <summary>The operation was aborted.</summary>
    Aborted = 10,
    /// <summary>Out of range (etcd: revision compacted or in the future).</summary>
    OutOfRange = 11,
    /// <summary>The method is not implemented by the server.</summary>
    Unimplemented = 12,
    /// <summary>Internal server error.</summary>
    Internal = 13,
    /// <summary>The service is unavailable (etcd: no leader, leader changed, server stopped, connection failed).</summary>
    Unavailable = 14,
    /// <summary>Unrecoverable data loss.</summary>
    DataLoss = 15,
    /// <summary>The request lacks valid credentials (etcd: invalid auth token).</summary>
    Unauthenticated = 16,
}
