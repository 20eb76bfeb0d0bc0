namespace ControlPlane.ZooKeeper;

/// <summary>A failed ZooKeeper operation: <see cref="Code"/> says what happened and <see cref="Path"/>
/// (when known) on which node, as the caller named it (without the chroot). Frequent outcomes have
/// their own subclass so they can be caught by type; <see cref="Create"/> picks the right one.</summary>
public class ZooKeeperException : Exception
{
    /// <summary>Creates an exception for <paramref name="code"/> on <paramref name="path"/>.</summary>
    public ZooKeeperException(ErrorCode code, string? path = null, string? message = null, Exception? innerException = null)
        : base(message ?? Describe(code, path), innerException)
    {
        Code = code;
        Path = path;
    }

    /// <summary>Creates a <see cref="ErrorCode.SystemError"/> exception.</summary>
    public ZooKeeperException() : this(ErrorCode.SystemError) { }

    /// <summary>Creates a <see cref="ErrorCode.SystemError"/> exception with a message.</summary>
    public ZooKeeperException(string message) : this(ErrorCode.SystemError, null, message) { }

    /// <summary>Creates a <see cref="ErrorCode.SystemError"/> exception with a message and a cause.</summary>
    public ZooKeeperException(string message, Exception innerException) : this(ErrorCode.SystemError, null, message, innerException) { }

    /// <summary>The ZooKeeper result code.</summary>
    public ErrorCode Code { get; }

    /// <summary>The node the operation addressed, relative to the chroot; <c>null</c> when not tied to a node.</summary>
    public string? Path { get; }

    /// <summary>Maps a code to its typed exception, e.g. <see cref="ErrorCode.NoNode"/> to <see cref="NoNodeException"/>.</summary>
    public static ZooKeeperException Create(ErrorCode code, string? path = null, string? message = null, Exception? innerException = null) => code switch
    {
        ErrorCode.NoNode => new NoNodeException(path, message),
        ErrorCode.NodeExists => new NodeExistsException(path, message),
        ErrorCode.BadVersion => new BadVersionException(path, message),
        ErrorCode.NotEmpty => new NotEmptyException(path, message),
        ErrorCode.NoAuth => new NoAuthException(path, message),
        ErrorCode.SessionExpired => new SessionExpiredException(message, innerException),
        ErrorCode.ConnectionLoss => new ConnectionLossException(message, innerException),
        ErrorCode.RequestTimeout => new RequestTimeoutException(path, message),
        ErrorCode.NoChildrenForEphemerals => new NoChildrenForEphemeralsException(path, message),
        ErrorCode.InvalidAcl => new InvalidAclException(path, message),
        ErrorCode.NoWatcher => new NoWatcherException(path, message),
        _ => new ZooKeeperException(code, path, message, innerException),
    };

    private static string Describe(ErrorCode code, string? path) =>
        path is null ? $"ZooKeeper error {code} ({(int)code})" : $"ZooKeeper error {code} ({(int)code}) for {path}";
}

/// <summary>The node does not exist (<see cref="ErrorCode.NoNode"/>).</summary>
public sealed class NoNodeException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NoNode, path, message);

/// <summary>The node already exists (<see cref="ErrorCode.NodeExists"/>).</summary>
public sealed class NodeExistsException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NodeExists, path, message);

/// <summary>The expected version did not match (<see cref="ErrorCode.BadVersion"/>).</summary>
public sealed class BadVersionException(string? path, string? message = null) : ZooKeeperException(ErrorCode.BadVersion, path, message);

/// <summary>The node still has children (<see cref="ErrorCode.NotEmpty"/>).</summary>
public sealed class NotEmptyException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NotEmpty, path, message);

/// <summary>The node's ACL refuses this session (<see cref="ErrorCode.NoAuth"/>); add the right auth with
/// <see cref="ZooKeeperClient.AddAuthAsync"/>.</summary>
public sealed class NoAuthException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NoAuth, path, message);

/// <summary>Ephemeral nodes cannot have children (<see cref="ErrorCode.NoChildrenForEphemerals"/>).</summary>
public sealed class NoChildrenForEphemeralsException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NoChildrenForEphemerals, path, message);

/// <summary>The ACL is invalid (<see cref="ErrorCode.InvalidAcl"/>).</summary>
public sealed class InvalidAclException(string? path, string? message = null) : ZooKeeperException(ErrorCode.InvalidAcl, path, message);

/// <summary>No such watch is registered (<see cref="ErrorCode.NoWatcher"/>).</summary>
public sealed class NoWatcherException(string? path, string? message = null) : ZooKeeperException(ErrorCode.NoWatcher, path, message);

/// <summary>No reply arrived within <see cref="ZooKeeperClientOptions.RequestTimeout"/>. The request may
/// still be applied by the server; the connection is kept.</summary>
public sealed class RequestTimeoutException(string? path, string? message = null) : ZooKeeperException(ErrorCode.RequestTimeout, path, message);

/// <summary>The connection broke before the reply arrived (<see cref="ErrorCode.ConnectionLoss"/>). The
/// operation may or may not have been applied. The client reconnects by itself; retry once
/// <see cref="ZooKeeperClient.State"/> is <see cref="ConnectionState.Connected"/> again.</summary>
public sealed class ConnectionLossException(string? message = null, Exception? innerException = null)
    : ZooKeeperException(ErrorCode.ConnectionLoss, null, message ?? "Connection to ZooKeeper lost", innerException);

/// <summary>The session has expired (<see cref="ErrorCode.SessionExpired"/>): every ephemeral node and
/// watch of it is gone and this client is finished. Create a new <see cref="ZooKeeperClient"/>.</summary>
public sealed class SessionExpiredException(string? message = null, Exception? innerException = null)
    : ZooKeeperException(ErrorCode.SessionExpired, null, message ?? "ZooKeeper session expired", innerException);
