namespace ControlPlane.Coordination;

/// <summary>The outcome of <see cref="ICoordinationStore.CommitAsync"/>.</summary>
/// <remarks>
/// A failed condition is an answer, not an error: <see cref="Succeeded"/> is false and nothing was written.
/// Errors (the store unreachable, the session lost) are exceptions; for a write whose outcome the store
/// never confirmed, that exception is <see cref="StoreOutcomeUnknownException"/>.
/// </remarks>
public sealed record CommitResult
{
    /// <summary>True when every condition held and every operation applied.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>The store revision of the commit, or of the read that found a condition false.</summary>
    public required long Revision { get; init; }

    /// <summary>When the commit failed: the index of the first failing check, counting the conditions first
    /// (0 … Conditions.Count − 1) and then the operations; -1 when the store could not tell.</summary>
    public int FailedIndex { get; init; } = -1;

    /// <summary>For a successful commit: the created or updated items, in the order of the operations
    /// (null for deletes).</summary>
    public IReadOnlyList<StoreItem?> Items { get; init; } = [];
}
