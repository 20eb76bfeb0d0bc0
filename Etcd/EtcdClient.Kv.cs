using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>Key-value operations.</summary>
public sealed partial class EtcdClient
{
    /// <summary>
    /// Reads a key or range. Linearizable unless <c>Serializable</c> is set; retried on another endpoint when
    /// a member is unavailable. Build requests with <see cref="EtcdOp.Get"/> / <see cref="EtcdOp.GetPrefix"/>.
    /// </summary>
    /// <param name="request">The range (key, range end, limit, revision, sort, keys-only, count-only, min/max revisions).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The keys and the header revision the read was served at.</returns>
    /// <exception cref="EtcdCompactedException">The requested revision was compacted.</exception>
    /// <exception cref="EtcdException">Any other failure, with its gRPC status.</exception>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("/etcdserverpb.KV/Range", request, RangeResponse.Parser, idempotent: true, cancellationToken);
    }

    /// <summary>Reads one key; null when it does not exist.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The key-value, or null.</returns>
    public async Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await RangeAsync(EtcdOp.Get(key), cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    /// <summary>Writes a key. Not retried once the request may have reached a member; on
    /// <see cref="EtcdTimeoutException"/> or <see cref="EtcdUnavailableException"/> read before retrying.</summary>
    /// <param name="request">The put (key, value, lease, prev_kv, ignore_value, ignore_lease).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The header (revision of the write) and the previous value if requested.</returns>
    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("/etcdserverpb.KV/Put", request, PutResponse.Parser, idempotent: false, cancellationToken);
    }

    /// <summary>Writes a UTF-8 value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response with the write's revision.</returns>
    public Task<PutResponse> PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        PutAsync(EtcdOp.Put(key, value), cancellationToken);

    /// <summary>Deletes a key or range. Same retry rules as <see cref="PutAsync(PutRequest, CancellationToken)"/>.</summary>
    /// <param name="request">The delete (key, range end, prev_kv).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many keys were deleted, and their previous values if requested.</returns>
    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("/etcdserverpb.KV/DeleteRange", request, DeleteRangeResponse.Parser, idempotent: false, cancellationToken);
    }

    /// <summary>Runs a transaction atomically. Retried only when provably not sent, even if it only reads:
    /// the client cannot tell a read-only txn from a write cheaply.</summary>
    /// <param name="request">The transaction, e.g. from <see cref="EtcdTxn.Build"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the comparisons held, and the responses of the branch that ran.</returns>
    /// <exception cref="EtcdException">InvalidArgument for too many operations or a duplicate key in one branch.</exception>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync("/etcdserverpb.KV/Txn", request, TxnResponse.Parser, idempotent: false, cancellationToken);
    }

    /// <summary>Runs a transaction built with <see cref="EtcdTxn"/>.</summary>
    /// <param name="txn">The builder.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The transaction response.</returns>
    public Task<TxnResponse> TxnAsync(EtcdTxn txn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(txn);
        return TxnAsync(txn.Build(), cancellationToken);
    }

    /// <summary>Discards history before <paramref name="revision"/>. Watches and reads from older revisions then fail
    /// with <see cref="EtcdCompactedException"/>. Compacting at or below the current compaction fails with OutOfRange.</summary>
    /// <param name="revision">Keep revisions from this one on.</param>
    /// <param name="physical">Wait until the compaction is physically applied.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response header.</returns>
    public Task<CompactionResponse> CompactAsync(long revision, bool physical = false, CancellationToken cancellationToken = default)
    {
        var request = new CompactionRequest { Revision = revision, Physical = physical };
        // Compaction is idempotent at a given revision, but a repeat fails with "compacted": do not retry.
        return CallAsync("/etcdserverpb.KV/Compact", request, CompactionResponse.Parser, idempotent: false, cancellationToken);
    }
}
