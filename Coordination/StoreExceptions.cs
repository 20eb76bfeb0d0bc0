namespace ControlPlane.Coordination;

/// <summary>A store operation failed: the store was unreachable or answered with an error.</summary>
public class StoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreException() : this("The store operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreException(string message) : this(message, null)
    {
    }
}

/// <summary>
/// A write may or may not have been applied: its request was sent but no answer came (connection lost,
/// timeout). Read the keys before retrying; never assume either outcome.
/// </summary>
public sealed class StoreOutcomeUnknownException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StoreOutcomeUnknownException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreOutcomeUnknownException() : this("The write's outcome is unknown.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreOutcomeUnknownException(string message) : this(message, null)
    {
    }
}

/// <summary>
/// The store answered with a revision below one this process has already seen: it was restored from a backup (or a
/// member set lost its newest data) under a running process. The store stops serving this process: every later
/// operation fails with this exception, its session ends as lost (a leader stops leading, an agent fences itself), and
/// no new session is opened. Restart the process once the restore is intended: a new process trusts the store as it
/// is (docs/operations.md, "A restored backup").
/// </summary>
public sealed class StoreRolledBackException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StoreRolledBackException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreRolledBackException() : this("The store went back to an earlier revision.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreRolledBackException(string message) : this(message, null)
    {
    }
}

/// <summary>The session the operation needed has ended (an ephemeral create, a fenced write).</summary>
public sealed class SessionLostException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public SessionLostException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SessionLostException() : this("The store session has ended.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public SessionLostException(string message) : this(message, null)
    {
    }
}

/// <summary>A fenced write was refused because this process no longer leads (or stopped leading on its own,
/// its session having been out of contact past the safety margin). Nothing was written.</summary>
public sealed class LeadershipLostException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public LeadershipLostException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LeadershipLostException() : this("Leadership was lost.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LeadershipLostException(string message) : this(message, null)
    {
    }
}

/// <summary>
/// The TLS handshake with the store's servers failed: a server's certificate is not signed by
/// <c>Store:Tls:CaFile</c> or names another host, a server refused the client certificate, or a port does not speak
/// TLS. The message says which server and why. Retried with backoff like any unreachable store (a server being
/// re-keyed recovers by itself; a wrong CA does not), and logged each time.
/// </summary>
public sealed class StoreTlsException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StoreTlsException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public StoreTlsException() : this("The TLS handshake with the store failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreTlsException(string message) : this(message, null)
    {
    }
}

/// <summary>The store refused the operation because this process's identity lacks a permission (etcd
/// PermissionDenied, ZooKeeper NoAuth): a deployment error, not a transient one. Nothing was written.
/// The message names the identity, the keys and the permission (docs/operations.md, "Identities and permissions").</summary>
public sealed class StorePermissionException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StorePermissionException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public StorePermissionException() : this("The store refused the operation: permission denied.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorePermissionException(string message) : this(message, null)
    {
    }

    /// <summary>The keys the refused operation read or wrote (relative to the root), when known.</summary>
    public IReadOnlyList<string> Keys { get; init; } = [];
}
