using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>An assignment as the audit saw it created.</summary>
/// <param name="Cell">The cell whose subtree holds it.</param>
/// <param name="Key">Its key (relative to the root: <c>cells/&lt;cell&gt;/assignments/…</c> in a named cell).</param>
/// <param name="JobId">Job.</param>
/// <param name="Attempt">Attempt.</param>
/// <param name="Epoch">The epoch of the leader that wrote it.</param>
/// <param name="CreateRevision">The revision of the transaction that created it (the placement).</param>
public sealed record AuditedAssignment(string Cell, string Key, string JobId, int Attempt, long Epoch, long CreateRevision);

/// <summary>
/// The test's own watch on the store, connected to every member directly (no proxy, never faulted): in every cell's
/// subtree (<paramref name="cells"/>; a named cell's keys are under <c>cells/&lt;cell&gt;/</c>) it sees every assignment
/// the leaders create, with the revision of the placement transaction, and every election candidate key with its
/// creation revision (an epoch of that cell) and its deletion. A placement is the one leader write whose record names
/// the writer's epoch, so it is where a deposed leader's accepted write, or one cell's leader writing into another
/// cell, would show (see docs/chaos.md). The keys are read from the root, not through the directors' scoped views, so
/// the audit does not share the code it checks.
/// </summary>
public sealed partial class StoreAudit(StoreTarget target, IReadOnlyList<string> cells)
{
    private readonly Dictionary<string, AuditedAssignment> _assignments = [];
    private readonly Dictionary<string, long> _candidates = [];
    private readonly Dictionary<long, string> _epochCells = [];
    private readonly Dictionary<long, long> _deposedBy = [];
    private readonly Lock _lock = new();
    private int _errors;

    /// <summary>Assignments seen, by key and creation.</summary>
    public IReadOnlyList<AuditedAssignment> Assignments
    {
        get
        {
            lock (_lock)
            {
                return [.. _assignments.Values.OrderBy(a => a.CreateRevision)];
            }
        }
    }

    /// <summary>Epochs (candidate creation revisions) seen.</summary>
    public IReadOnlyList<long> Epochs
    {
        get
        {
            lock (_lock)
            {
                return [.. _candidates.Values.Concat(_deposedBy.Keys).Distinct().Order()];
            }
        }
    }

    /// <summary>The cell of every epoch seen: the cell whose election created the candidate key. Epochs are store
    /// revisions, so no two cells share one.</summary>
    public IReadOnlyDictionary<long, string> EpochCells
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<long, string>(_epochCells);
            }
        }
    }

    /// <summary>For each epoch whose candidate key was seen deleted: a revision at or after the deletion (exact on
    /// etcd; on ZooKeeper, and after a resync, an upper bound). No write fenced on that epoch can commit after it.</summary>
    public IReadOnlyDictionary<long, long> DeletedAt
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<long, long>(_deposedBy);
            }
        }
    }

    /// <summary>Watch failures (each followed by a new watch from the last revision).</summary>
    public int Errors => _errors;

    /// <summary>Watches until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var options = new StoreOptions
        {
            Backend = target.Backend,
            Endpoints = target.Endpoints,
            Root = target.Root,
            SessionTimeout = TimeSpan.FromSeconds(10),
        };
        await using var store = await options.ConnectAsync(cancellationToken: cancellationToken);
        await Task.WhenAll(cells.SelectMany(cell => new[]
        {
            WatchAsync(store, cell, StoreLayout.Assignments, cancellationToken),
            WatchAsync(store, cell, StoreLayout.Election, cancellationToken),
        }));
    }

    /// <summary>Applies one update of the watch on <paramref name="cell"/>'s <paramref name="subtree"/>
    /// (<see cref="StoreLayout.Assignments"/> or <see cref="StoreLayout.Election"/>; the update's keys are relative to the
    /// root); internal so the checks can be tested on made-up histories.</summary>
    internal void Apply(string cell, string subtree, WatchUpdate update)
    {
        var prefix = Cells.Key(cell, subtree) + "/";
        if (subtree == StoreLayout.Assignments)
        {
            Apply(update, prefix, item => OnAssignment(cell, item), null);
        }
        else
        {
            Apply(update, prefix, item => OnCandidate(cell, item), OnCandidateGone);
        }
    }

    private async Task WatchAsync(ICoordinationStore store, string cell, string subtree, CancellationToken cancellationToken)
    {
        var prefix = Cells.Key(cell, subtree);
        long after = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var update in store.WatchAsync(prefix, after, cancellationToken))
                {
                    Apply(cell, subtree, update);
                    after = update.Revision;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or IOException or TimeoutException or OperationCanceledException)
            {
                // A member died under the watch: watch again from the last revision applied.
                Interlocked.Increment(ref _errors);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
