using ControlPlane.Contracts;

namespace ControlPlane.Coordination;

/// <summary>A cell's view of the store (docs/cells.md).</summary>
public static class CellStores
{
    /// <summary>
    /// The store as <paramref name="cell"/> sees it: <paramref name="store"/> itself for <see cref="Cells.Default"/> (its
    /// keys are at the root), otherwise a view scoped to <c>cells/&lt;cell&gt;</c>, through which a cell's agent and
    /// leader cannot name another cell's keys.
    /// </summary>
    /// <param name="store">The store (rooted at the deployment's root).</param>
    /// <param name="cell">The cell.</param>
    /// <param name="shared">Global top-level subtrees the cell's owner must still reach at the root (a leader: the
    /// idempotency records of the jobs it removes); none for an agent.</param>
    /// <exception cref="ArgumentException"><paramref name="cell"/> is not a valid cell name (the message says why).</exception>
    public static ICoordinationStore ForCell(this ICoordinationStore store, string cell, IReadOnlyList<string>? shared = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.Scoped(Cells.Prefix(cell), shared);
    }
}

/// <summary>The registry of named cells, <c>meta/cells/&lt;cell&gt;</c> (docs/cells.md). A store lists only keys with
/// values, never the directories above them, so <c>cells/</c> itself cannot say which cells exist: each named cell's
/// first agent registers it here.</summary>
public static class CellRegistry
{
    /// <summary>Most cells a director campaigns in: one page of the registry.</summary>
    public const int MaxCells = 1000;

    /// <summary>Registers <paramref name="cell"/> unless it is the default cell or already registered: one read, and one
    /// create when absent (a concurrent create by another agent is as good).</summary>
    /// <exception cref="ArgumentException"><paramref name="cell"/> is not a valid cell name.</exception>
    public static async Task EnsureAsync(ICoordinationStore store, string cell, string? by, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        Cells.Validate(cell);
        if (cell == Cells.Default)
        {
            return;
        }

        var key = StoreLayout.CellRecord(cell);
        if (await store.GetAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        var record = new CellRecord { Name = cell, CreatedAt = time.GetUtcNow(), CreatedBy = by };
        await store.CommitAsync(new Transaction().Create(key, ContractJson.Serialize(record)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when <paramref name="cell"/> is the default cell or registered.</summary>
    public static async Task<bool> ExistsAsync(ICoordinationStore store, string cell, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return cell == Cells.Default || await store.GetAsync(StoreLayout.CellRecord(cell), cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Every cell: <see cref="Cells.Default"/> first, then the registered ones by name (one listing, at most
    /// <see cref="MaxCells"/>; records with names this build refuses are left out).</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(ICoordinationStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var page = await store.ListAsync(StoreLayout.CellRegistry, new ListOptions(MaxCells), cancellationToken).ConfigureAwait(false);
        List<string> cells = [Cells.Default];
        cells.AddRange(page.Items.Select(i => StoreKeys.Name(i.Key)).Where(n => n != Cells.Default && Cells.IsValid(n)));
        return cells;
    }
}
