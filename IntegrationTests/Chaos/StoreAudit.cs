using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>An assignment as the audit saw it created.</summary>
/// <param name="Key">Its key.</param>
/// <param name="JobId">Job.</param>
/// <param name="Attempt">Attempt.</param>
/// <param name="Epoch">The epoch of the leader that wrote it.</param>
/// <param name="CreateRevision">The revision of the transaction that created it (the placement).</param>
public sealed record AuditedAssignment(string Key, string JobId, int Attempt, long Epoch, long CreateRevision);

/// <summary>
/// The test's own watch on the store, connected to every member directly (no proxy, never faulted): it sees every
/// assignment the leaders create, with the revision of the placement transaction, and every election candidate key
/// with its creation revision (an epoch) and its deletion. A placement is the one leader write whose record names the
/// writer's epoch, so it is where a deposed leader's accepted write would show (see docs/chaos.md).
/// </summary>
public sealed partial class StoreAudit(StoreTarget target)
{
    private readonly Dictionary<string, AuditedAssignment> _assignments = [];
    private readonly Dictionary<string, long> _candidates = [];
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
        await Task.WhenAll(
            WatchAsync(store, StoreLayout.Assignments, cancellationToken),
            WatchAsync(store, StoreLayout.Election, cancellationToken));
    }

    /// <summary>Applies one update of the watch on <paramref name="prefix"/> (<see cref="StoreLayout.Assignments"/> or
    /// <see cref="StoreLayout.Election"/>); internal so the checks can be tested on made-up histories.</summary>
    internal void Apply(string prefix, WatchUpdate update)
    {
        if (prefix == StoreLayout.Assignments)
        {
            Apply(update, OnAssignment, null);
        }
        else
        {
            Apply(update, OnCandidate, OnCandidateGone);
        }
    }

    private async Task WatchAsync(ICoordinationStore store, string prefix, CancellationToken cancellationToken)
    {
        long after = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var update in store.WatchAsync(prefix, after, cancellationToken))
                {
                    Apply(prefix, update);
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
