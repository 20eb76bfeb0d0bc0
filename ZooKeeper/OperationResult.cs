namespace ControlPlane.ZooKeeper;

/// <summary>The result of one operation of a transaction, in the order of the operations.</summary>
public abstract record OperationResult
{
    private protected OperationResult() { }
}

/// <summary>A create succeeded.</summary>
/// <param name="Path">The created path (sequential suffix included, chroot stripped).</param>
/// <param name="Stat">The new node's stat.</param>
public sealed record CreateOperationResult(string Path, Stat? Stat) : OperationResult;

/// <summary>A delete succeeded.</summary>
public sealed record DeleteOperationResult : OperationResult;

/// <summary>A setData succeeded.</summary>
/// <param name="Stat">The node's new stat.</param>
public sealed record SetDataOperationResult(Stat Stat) : OperationResult;

/// <summary>A check succeeded.</summary>
public sealed record CheckOperationResult : OperationResult;

/// <summary>An operation of a failed transaction: the failing one carries its real code, those before it
/// <see cref="ErrorCode.Ok"/> (rolled back), those after it <see cref="ErrorCode.RuntimeInconsistency"/> (not run).</summary>
/// <param name="Code">The operation's code.</param>
public sealed record ErrorOperationResult(ErrorCode Code) : OperationResult;

/// <summary>A transaction failed as a whole; nothing of it was applied. <see cref="FailedIndex"/> and
/// <see cref="ZooKeeperException.Code"/> say which operation failed and why; <see cref="Results"/> has one
/// <see cref="ErrorOperationResult"/> per operation.</summary>
public sealed class MultiOperationException : ZooKeeperException
{
    /// <summary>Creates the exception for the failing operation.</summary>
    public MultiOperationException(int failedIndex, ErrorCode code, string? path, IReadOnlyList<OperationResult> results)
        : base(code, path, $"Transaction failed at operation {failedIndex} ({path}): {code} ({(int)code})")
    {
        FailedIndex = failedIndex;
        Results = results;
    }

    /// <summary>Index of the first failing operation.</summary>
    public int FailedIndex { get; }

    /// <summary>Per-operation results.</summary>
    public IReadOnlyList<OperationResult> Results { get; }
}
