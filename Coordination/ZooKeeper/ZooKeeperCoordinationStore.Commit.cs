using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

public sealed partial class ZooKeeperCoordinationStore
{
    /// <inheritdoc />
    public async Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var session = (ZooKeeperStoreSession)Session;
        if (session.State is SessionState.Lost or SessionState.Closed && transaction.Operations.Any(o => o.Ephemeral))
        {
            throw new SessionLostException("The session has ended; ephemeral keys cannot be created on it.");
        }

        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        var agents = await ResolveAgentsAsync(client, transaction, cancellationToken).ConfigureAwait(false);
        var (ops, origin) = Translate(transaction, agents);
        if (ops.Count == 0)
        {
            return new CommitResult { Succeeded = true, Revision = client.LastZxid };
        }

        // A create under a parent that does not exist yet fails with NoNode: create the parents and try again.
        // Parents are persistent; the only ones removed are empty directories of departed workers, by the leader's
        // sweep, so two tries are enough unless a sweep deletes the same parent again in between; the third
        // failure is reported as it is (a refused write, which the leader replans).
        for (var attempt = 1; ; attempt++)
        {
            await EnsureParentsAsync(client, transaction, cancellationToken).ConfigureAwait(false);
            try
            {
                var results = await client.MultiAsync(ops, cancellationToken).ConfigureAwait(false);
                ForgetDeleted(transaction);
                return await SucceededAsync(transaction, origin, results, client, cancellationToken).ConfigureAwait(false);
            }
            catch (MultiOperationException failed) when (failed.Code == ErrorCode.NoNode && IsCreate(ops[failed.FailedIndex]) && attempt < 3)
            {
                ForgetParent(ops[failed.FailedIndex].Path);
            }
            // NotEmpty: a delete of a key with children (a directory swept while a create landed below it).
            catch (MultiOperationException failed) when (failed.Code is ErrorCode.NoNode or ErrorCode.NodeExists or ErrorCode.BadVersion or ErrorCode.NoChildrenForEphemerals or ErrorCode.NotEmpty)
            {
                return new CommitResult { Succeeded = false, Revision = client.LastZxid, FailedIndex = origin[failed.FailedIndex] };
            }
            catch (MultiOperationException failed) when (failed.Code == ErrorCode.NoAuth)
            {
                throw Refused(failed, ops);
            }
            catch (ZooKeeperException ex)
            {
                throw Translate(ex, write: true, "a commit");
            }
        }
    }

    /// <summary>
    /// The multi that enforces <paramref name="transaction"/>, and for each of its ops the index of the condition or
    /// operation it comes from (conditions first, then operations).
    /// </summary>
    /// <remarks>
    /// ZooKeeper's check op only tests a version, so: Exists and CreatedAt become check(path, -1) (CreatedAt is exact
    /// only for never-reused names, see docs/coordination.md), VersionEquals(v) becomes check(path, v - 1), and Absent,
    /// which multi cannot express directly, becomes create + delete of the path: the create fails if the key exists.
    /// </remarks>
    internal (List<ZooKeeperOperation> Ops, List<int> Origin) Translate(Transaction transaction, IReadOnlyDictionary<string, string?>? agents = null)
    {
        var ops = new List<ZooKeeperOperation>();
        var origin = new List<int>();
        var index = 0;
        var conditionCount = transaction.Conditions.Count;
        foreach (var condition in transaction.Conditions)
        {
            var path = PathOf(condition.Key);
            switch (condition.Kind)
            {
                case ConditionKind.Absent:
                    ops.Add(ZooKeeperOperation.Create(path, ReadOnlyMemory<byte>.Empty, acl: DirectoryAcl));
                    ops.Add(ZooKeeperOperation.Delete(path, 0));
                    origin.Add(index);
                    break;
                case ConditionKind.VersionEquals:
                    ops.Add(ZooKeeperOperation.Check(path, checked((int)(condition.Value - 1))));
                    break;
                default:
                    ops.Add(ZooKeeperOperation.Check(path, -1));
                    break;
            }

            origin.Add(index++);
        }

        // Creates of shallower keys go first, so a transaction may create a parent and its child in any order.
        var ordered = transaction.Operations
            .Select((operation, i) => (Operation: operation, Index: conditionCount + i))
            .OrderBy(x => x.Operation.Kind == OperationKind.Create ? x.Operation.Key.Count(c => c == '/') : -1);
        foreach (var (operation, operationIndex) in ordered)
        {
            var path = PathOf(operation.Key);
            var version = operation.ExpectedVersion is { } v ? checked((int)(v - 1)) : -1;
            ops.Add(operation.Kind switch
            {
                OperationKind.Create => ZooKeeperOperation.Create(path, operation.Value, operation.Ephemeral ? CreateMode.Ephemeral : CreateMode.Persistent, CreateAcl(operation, agents)),
                OperationKind.Update => ZooKeeperOperation.SetData(path, operation.Value, version),
                _ => ZooKeeperOperation.Delete(path, version),
            });
            origin.Add(operationIndex);
        }

        return (ops, origin);
    }

    private async Task<CommitResult> SucceededAsync(
        Transaction transaction, List<int> origin, IReadOnlyList<OperationResult> results, ZooKeeperClient client, CancellationToken cancellationToken)
    {
        // The multi's results follow the multi's order: find each operation's result through the origin map.
        var conditions = transaction.Conditions.Count;
        var byOperation = new OperationResult[transaction.Operations.Count];
        for (var i = 0; i < results.Count; i++)
        {
            if (origin[i] >= conditions)
            {
                byOperation[origin[i] - conditions] = results[i];
            }
        }

        // ZooKeeper 3.8 answers a create inside multi without its Stat (as a plain create). A multi is one
        // transaction with one zxid, so when it also updated a node, that update's mzxid is every created node's
        // czxid and mzxid (the leader's placements: a job update and an assignment create). Otherwise the created
        // nodes' creation zxids are read back, pipelined: a candidate's epoch must be exactly its key's czxid.
        var multiZxid = byOperation.OfType<SetDataOperationResult>().Select(r => r.Stat.Mzxid).FirstOrDefault(z => z > 0);
        var created = transaction.Operations
            .Select((o, i) => (Operation: o, Index: i))
            .Where(x => multiZxid == 0 && byOperation[x.Index] is CreateOperationResult { Stat: null })
            .Select(async x => (x.Index, Stat: await StatOrNullAsync(client, PathOf(x.Operation.Key), cancellationToken).ConfigureAwait(false)))
            .ToList();
        var readBack = (await Task.WhenAll(created).ConfigureAwait(false)).ToDictionary(x => x.Index, x => x.Stat);

        var items = new List<StoreItem?>(transaction.Operations.Count);
        long revision = 0;
        for (var i = 0; i < transaction.Operations.Count; i++)
        {
            var operation = transaction.Operations[i];
            var value = operation.Value.ToArray();
            StoreItem? item = byOperation[i] switch
            {
                CreateOperationResult { Stat: { } stat } => ToItem(operation.Key, value, stat),
                // Read back: as it was when created (version 1), whatever happened to it since.
                CreateOperationResult when multiZxid > 0 =>
                    new StoreItem(operation.Key, value, multiZxid, multiZxid, 1, operation.Ephemeral ? client.SessionId : 0),
                CreateOperationResult when readBack.GetValueOrDefault(i) is { } stat => ToItem(operation.Key, value, stat with { Mzxid = stat.Czxid, Version = 0 }),
                SetDataOperationResult { Stat: var stat } => ToItem(operation.Key, value, stat),
                _ => null,
            };
            items.Add(item);
            revision = Math.Max(revision, item?.ModRevision ?? 0);
        }

        // Without a create or update there is no stat to read the commit's zxid from; the client's last seen zxid
        // is at or after it.
        return new CommitResult { Succeeded = true, Revision = revision > 0 ? revision : client.LastZxid, Items = items };
    }

    private static async Task<Stat?> StatOrNullAsync(ZooKeeperClient client, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await client.ExistsAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (ZooKeeperException)
        {
            // Deleted or unreachable since: the commit still happened; its item is reported without versions.
            return null;
        }
    }

    private async Task EnsureParentsAsync(ZooKeeperClient client, Transaction transaction, CancellationToken cancellationToken)
    {
        // Parents that this transaction creates itself are left to it (it orders creates by depth).
        var createdHere = transaction.Operations.Where(o => o.Kind == OperationKind.Create).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var parents = createdHere
            .Concat(transaction.Conditions.Where(c => c.Kind == ConditionKind.Absent).Select(c => c.Key))
            .Select(StoreKeys.Parent)
            .Where(p => p is null || !createdHere.Contains(p))
            .Select(p => p is null ? _rootPath : PathOf(p))
            .Distinct(StringComparer.Ordinal);
        foreach (var parent in parents)
        {
            try
            {
                await EnsurePathAsync(client, parent, cancellationToken).ConfigureAwait(false);
            }
            catch (ZooKeeperException ex)
            {
                throw Translate(ex, write: false, $"creating {parent}");
            }
        }
    }

    private void ForgetParent(string path)
    {
        var slash = path.LastIndexOf('/');
        if (slash > 0)
        {
            _knownDirectories.TryRemove(path[..slash], out _);
        }
    }

    /// <summary>A deleted key may have been a directory (see <see cref="IStoreDirectories"/>): the next create below it
    /// must create it again instead of finding out through a failed multi.</summary>
    private void ForgetDeleted(Transaction transaction)
    {
        foreach (var operation in transaction.Operations)
        {
            if (operation.Kind == OperationKind.Delete)
            {
                _knownDirectories.TryRemove(PathOf(operation.Key), out _);
            }
        }
    }

    private static bool IsCreate(ZooKeeperOperation op) => op is CreateOperation;
}
