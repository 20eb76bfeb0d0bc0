using System.Net.Sockets;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using static ControlPlane.Etcd.Rpc.Compare.Types;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Transactions: conditions and operations as one etcd Txn that fails exactly where ZooKeeper's multi would.</summary>
public sealed partial class EtcdCoordinationStore
{
    /// <inheritdoc />
    /// <remarks>
    /// etcd's put and delete never fail on their own, so every operation brings its own compare (create: absent;
    /// update and delete: present, or at the expected version). The failure branch reads every key involved, so a
    /// failed commit is explained from the state at the transaction's own revision, in the same round trip.
    /// </remarks>
    public async Task<CommitResult> CommitAsync(Transaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ThrowIfRolledBack();
        var leaseId = transaction.Operations.Any(o => o.Kind == OperationKind.Create && o.Ephemeral)
            ? await SessionLeaseAsync(cancellationToken).ConfigureAwait(false)
            : 0;
        var (request, keys) = BuildTxn(transaction, leaseId);

        var floor = SeenRevision;
        TxnResponse response;
        try
        {
            response = await _client.TxnAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException ex)
        {
            throw CommitFailed(ex, transaction);
        }

        var revision = response.Header.Revision;
        Current(revision, floor, "a transaction");
        if (!response.Succeeded)
        {
            return new CommitResult { Succeeded = false, Revision = revision, FailedIndex = FindFailure(transaction, keys, response) };
        }

        var items = new List<StoreItem?>(transaction.Operations.Count);
        for (var i = 0; i < transaction.Operations.Count; i++)
        {
            var op = transaction.Operations[i];
            var value = op.Value.ToArray();
            items.Add(op.Kind switch
            {
                OperationKind.Create => new StoreItem(op.Key, value, revision, revision, 1, op.Ephemeral ? leaseId : 0),
                // The previous value (prev_kv) carries what a put does not change: creation, version count, lease.
                OperationKind.Update when response.Responses[i].ResponsePut?.PrevKv is { } prev =>
                    new StoreItem(op.Key, value, prev.CreateRevision, revision, prev.Version + 1, prev.Lease),
                _ => null,
            });
        }

        return new CommitResult { Succeeded = true, Revision = revision, Items = items };
    }

    /// <summary>The lease id ephemeral creates hang on: the current session's, waiting (within the request timeout)
    /// for a new session's lease to be granted.</summary>
    private async Task<long> SessionLeaseAsync(CancellationToken cancellationToken)
    {
        var session = CurrentSession;
        if (session.State is SessionState.Lost or SessionState.Closed)
        {
            throw new SessionLostException($"The etcd session (lease {session.Id:x}) has ended; ephemeral keys cannot be created on it.");
        }

        try
        {
            var lease = await session.Established.WaitAsync(_options.RequestTimeout, _time, cancellationToken).ConfigureAwait(false);
            return lease.Id;
        }
        catch (TimeoutException ex)
        {
            throw new StoreException("The etcd session's lease has not been granted yet (etcd unreachable?); try again.", ex);
        }
    }

    private (TxnRequest Request, List<string> Keys) BuildTxn(Transaction transaction, long leaseId)
    {
        var request = new TxnRequest();
        var keys = new List<string>();
        void Involve(string key)
        {
            if (!keys.Contains(key))
            {
                keys.Add(key);
            }
        }

        foreach (var condition in transaction.Conditions)
        {
            var key = _rootPrefix + condition.Key;
            // Every compare names its target: etcd's default target is VERSION whatever operand is set.
            request.Compare.Add(condition.Kind switch
            {
                ConditionKind.Exists => EtcdCompare.CreateRevision(key, CompareResult.Greater, 0),
                ConditionKind.Absent => EtcdCompare.CreateRevision(key, CompareResult.Equal, 0),
                ConditionKind.VersionEquals => EtcdCompare.Version(key, CompareResult.Equal, condition.Value),
                ConditionKind.CreatedAt => EtcdCompare.CreateRevision(key, CompareResult.Equal, condition.Value),
                _ => throw new ArgumentOutOfRangeException(nameof(transaction), $"Unknown condition {condition.Kind}."),
            });
            Involve(condition.Key);
        }

        foreach (var op in transaction.Operations)
        {
            var key = _rootPrefix + op.Key;
            switch (op.Kind)
            {
                case OperationKind.Create:
                    request.Compare.Add(EtcdCompare.CreateRevision(key, CompareResult.Equal, 0));
                    request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Full(op.Key), Value = Google.Protobuf.ByteString.CopyFrom(op.Value.Span), Lease = op.Ephemeral ? leaseId : 0 } });
                    break;
                case OperationKind.Update:
                    request.Compare.Add(ExpectedVersion(key, op.ExpectedVersion));
                    // ignore_lease keeps an ephemeral key on its own lease; prev_kv gives the item's create revision and version.
                    request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Full(op.Key), Value = Google.Protobuf.ByteString.CopyFrom(op.Value.Span), IgnoreLease = true, PrevKv = true } });
                    break;
                case OperationKind.Delete:
                    request.Compare.Add(ExpectedVersion(key, op.ExpectedVersion));
                    request.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Full(op.Key) } });
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(transaction), $"Unknown operation {op.Kind}.");
            }

            Involve(op.Key);
        }

        // On failure etcd runs this branch in the same revision: the state that made a compare false.
        foreach (var key in keys)
        {
            request.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Full(key) } });
        }

        return (request, keys);
    }

    private static Compare ExpectedVersion(string key, long? expected) => expected is { } version
        ? EtcdCompare.Version(key, CompareResult.Equal, version)
        : EtcdCompare.Version(key, CompareResult.Greater, 0);

    /// <summary>The index of the first check that is false in the state the failure branch read (conditions first,
    /// then operations), as ZooKeeper reports it; -1 if none is (cannot happen unless etcd disagrees with itself).</summary>
    private static int FindFailure(Transaction transaction, List<string> keys, TxnResponse response)
    {
        var state = new Dictionary<string, KeyValue?>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count && i < response.Responses.Count; i++)
        {
            state[keys[i]] = response.Responses[i].ResponseRange is { Kvs.Count: > 0 } range ? range.Kvs[0] : null;
        }

        var index = 0;
        foreach (var condition in transaction.Conditions)
        {
            var kv = state.GetValueOrDefault(condition.Key);
            var holds = condition.Kind switch
            {
                ConditionKind.Exists => kv is not null,
                ConditionKind.Absent => kv is null,
                ConditionKind.VersionEquals => kv?.Version == condition.Value,
                ConditionKind.CreatedAt => kv?.CreateRevision == condition.Value,
                _ => false,
            };
            if (!holds)
            {
                return index;
            }

            index++;
        }

        foreach (var op in transaction.Operations)
        {
            var kv = state.GetValueOrDefault(op.Key);
            var ok = op.Kind == OperationKind.Create
                ? kv is null
                : kv is not null && (op.ExpectedVersion is null || kv.Version == op.ExpectedVersion);
            if (!ok)
            {
                return index;
            }

            index++;
        }

        return -1;
    }

    /// <summary>Maps a failed Txn: unknown outcome whenever the request may have reached a member.</summary>
    private StoreException CommitFailed(EtcdException ex, Transaction transaction)
    {
        var operations = transaction.Operations.Count;
        if (ex.StatusCode == GrpcStatusCode.PermissionDenied)
        {
            // etcd does not say which key: name them all (conditions need read, operations write).
            var writes = transaction.Operations.Select(o => $"{o.Kind.ToString().ToLowerInvariant()} {o.Key}").ToList();
            var reads = transaction.Conditions.Select(c => c.Key).Distinct().ToList();
            var keys = transaction.Operations.Select(o => o.Key).Concat(reads).Distinct().ToList();
            return new StorePermissionException(
                $"etcd denied user '{_options.Username ?? "(none)"}' a transaction ({ex.Message}): it needs write permission for " +
                $"{Summarize(writes)}" + (reads.Count > 0 ? $" and read permission for {Summarize(reads)}" : "") +
                " (docs/operations.md, \"Identities and permissions\"; cpctl store init / add-agent grant them)", ex)
            { Keys = keys };
        }

        if (ex.StatusCode == GrpcStatusCode.NotFound && ex.Message.Contains("lease not found", StringComparison.OrdinalIgnoreCase))
        {
            return new SessionLostException("The etcd session's lease has expired; ephemeral keys cannot be created on it.", ex);
        }

        if (ex is EtcdUnavailableException && NeverSent(ex.InnerException))
        {
            return new StoreException($"etcd could not be reached; nothing was written: {ex.Message}", ex);
        }

        if (ex is EtcdTimeoutException or EtcdUnavailableException
            || ex.StatusCode is GrpcStatusCode.Unavailable or GrpcStatusCode.DeadlineExceeded)
        {
            EtcdStoreLog.CommitOutcomeUnknown(_logger, ex, operations);
            return new StoreOutcomeUnknownException($"The commit may or may not have been applied: {ex.Message}. Read before retrying.", ex);
        }

        return new StoreException($"etcd refused the commit: {ex.Message}", ex);
    }

    private static string Summarize(IReadOnlyList<string> items) =>
        items.Count <= 4 ? string.Join(", ", items) : string.Join(", ", items.Take(4)) + $" and {items.Count - 4} more";

    /// <summary>True when the connection was never made, so the request cannot have reached a member.</summary>
    private static bool NeverSent(Exception? ex) =>
        ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError }
        || (ex is HttpRequestException { InnerException: SocketException se }
            && se.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable);
}
