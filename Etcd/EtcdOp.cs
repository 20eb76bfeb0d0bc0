using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>Builds the request messages used directly and inside transactions. Strings are UTF-8 keys/values.</summary>
public static class EtcdOp
{
    /// <summary>A linearizable read of one key.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The request; adjust its fields (Revision, Serializable, ...) as needed.</returns>
    public static RangeRequest Get(string key) => new() { Key = EtcdKeys.Key(key) };

    /// <summary>A read of every key under a prefix (byte-wise prefix end, see <see cref="EtcdKeys.PrefixEnd(string)"/>).</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <param name="limit">At most this many keys (0 = no limit); RangeResponse.More says whether more exist.</param>
    /// <returns>The request; adjust its fields (Revision, SortOrder, KeysOnly, CountOnly, ...) as needed.</returns>
    public static RangeRequest GetPrefix(string prefix, long limit = 0) =>
        new() { Key = EtcdKeys.Key(prefix), RangeEnd = EtcdKeys.PrefixEnd(prefix), Limit = limit };

    /// <summary>A put of a UTF-8 value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="lease">Attach to this lease (0 = none): the key is deleted when the lease ends.</param>
    /// <returns>The request.</returns>
    public static PutRequest Put(string key, string value, long lease = 0) =>
        new() { Key = EtcdKeys.Key(key), Value = ByteString.CopyFromUtf8(value), Lease = lease };

    /// <summary>A put of raw bytes.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value bytes.</param>
    /// <param name="lease">Attach to this lease (0 = none).</param>
    /// <returns>The request.</returns>
    public static PutRequest Put(string key, ByteString value, long lease = 0) =>
        new() { Key = EtcdKeys.Key(key), Value = value, Lease = lease };

    /// <summary>A delete of one key.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The request.</returns>
    public static DeleteRangeRequest Delete(string key) => new() { Key = EtcdKeys.Key(key) };

    /// <summary>A delete of every key under a prefix.</summary>
    /// <param name="prefix">The key prefix.</param>
    /// <returns>The request.</returns>
    public static DeleteRangeRequest DeletePrefix(string prefix) =>
        new() { Key = EtcdKeys.Key(prefix), RangeEnd = EtcdKeys.PrefixEnd(prefix) };

    /// <summary>Wraps a range as a transaction operation.</summary>
    /// <param name="request">The range.</param>
    /// <returns>The operation.</returns>
    public static RequestOp ToOp(this RangeRequest request) => new() { RequestRange = request };

    /// <summary>Wraps a put as a transaction operation.</summary>
    /// <param name="request">The put.</param>
    /// <returns>The operation.</returns>
    public static RequestOp ToOp(this PutRequest request) => new() { RequestPut = request };

    /// <summary>Wraps a delete as a transaction operation.</summary>
    /// <param name="request">The delete.</param>
    /// <returns>The operation.</returns>
    public static RequestOp ToOp(this DeleteRangeRequest request) => new() { RequestDeleteRange = request };

    /// <summary>Wraps a transaction as an operation of an outer transaction (nested txn; etcd 3.3+).</summary>
    /// <param name="request">The inner transaction.</param>
    /// <returns>The operation.</returns>
    public static RequestOp ToOp(this TxnRequest request) => new() { RequestTxn = request };
}
