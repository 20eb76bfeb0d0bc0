namespace ControlPlane.ZooKeeper;

/// <summary>The result codes a ZooKeeper server (or this client) reports, with the wire values of
/// ZooKeeper 3.8. Codes above <see cref="ApiError"/> are system errors; codes below it are
/// outcomes of an individual operation (a missing node, a version conflict, ...).</summary>
public enum ErrorCode
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A server-side system error.</summary>
    SystemError = -1,
    /// <summary>A runtime inconsistency was found by the server.</summary>
    RuntimeInconsistency = -2,
    /// <summary>A data inconsistency was found by the server.</summary>
    DataInconsistency = -3,
    /// <summary>The connection to the server was lost before the reply arrived; the operation may or may not have been applied.</summary>
    ConnectionLoss = -4,
    /// <summary>A request or reply could not be (de)serialised.</summary>
    MarshallingError = -5,
    /// <summary>The server does not implement the operation (e.g. TTL nodes without extendedTypesEnabled).</summary>
    Unimplemented = -6,
    /// <summary>The operation timed out on the server.</summary>
    OperationTimeout = -7,
    /// <summary>Invalid arguments.</summary>
    BadArguments = -8,
    /// <summary>The session is unknown to the server.</summary>
    UnknownSession = -12,
    /// <summary>A reconfiguration lacks a quorum.</summary>
    NewConfigNoQuorum = -13,
    /// <summary>A reconfiguration is in progress.</summary>
    ReconfigInProgress = -14,
    /// <summary>Boundary between system and API errors.</summary>
    ApiError = -100,
    /// <summary>The node does not exist.</summary>
    NoNode = -101,
    /// <summary>The session lacks the permission the node's ACL requires.</summary>
    NoAuth = -102,
    /// <summary>The expected version did not match the node's version.</summary>
    BadVersion = -103,
    /// <summary>Ephemeral nodes cannot have children.</summary>
    NoChildrenForEphemerals = -108,
    /// <summary>The node already exists.</summary>
    NodeExists = -110,
    /// <summary>The node has children and cannot be deleted.</summary>
    NotEmpty = -111,
    /// <summary>The session has expired: its ephemeral nodes and watches are gone. Open a new client.</summary>
    SessionExpired = -112,
    /// <summary>Invalid callback.</summary>
    InvalidCallback = -113,
    /// <summary>The ACL is invalid (e.g. empty, or an <c>auth</c> id without any authentication).</summary>
    InvalidAcl = -114,
    /// <summary>Authentication failed.</summary>
    AuthFailed = -115,
    /// <summary>The session moved to another server.</summary>
    SessionMoved = -118,
    /// <summary>A read-only server refused a write.</summary>
    NotReadOnly = -119,
    /// <summary>Ephemeral nodes cannot be created on a local session.</summary>
    EphemeralOnLocalSession = -120,
    /// <summary>No watch of the given kind exists for the path.</summary>
    NoWatcher = -121,
    /// <summary>The request did not get a reply within <see cref="ZooKeeperClientOptions.RequestTimeout"/>.</summary>
    RequestTimeout = -122,
    /// <summary>Reconfiguration is disabled.</summary>
    ReconfigDisabled = -123,
    /// <summary>The session was closed because SASL authentication is required.</summary>
    SessionClosedRequireSaslAuth = -124,
    /// <summary>A quota was exceeded.</summary>
    QuotaExceeded = -125,
    /// <summary>The server throttled the operation.</summary>
    ThrottledOp = -127,
}
