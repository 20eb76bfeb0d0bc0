using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>
/// Builds a transaction: if every comparison holds, run the Then operations, otherwise the Else operations,
/// atomically at one revision. Use <see cref="EtcdCompare"/> for comparisons and <see cref="EtcdOp"/> for
/// operations; a nested <see cref="TxnRequest"/> may be an operation. At most 128 operations per branch.
/// </summary>
public sealed class EtcdTxn
{
    private readonly TxnRequest _request = new();

    /// <summary>Adds comparisons; all must hold for the Then branch.</summary>
    /// <param name="compares">Comparisons from <see cref="EtcdCompare"/>.</param>
    /// <returns>This builder.</returns>
    public EtcdTxn If(params Compare[] compares)
    {
        _request.Compare.AddRange(compares);
        return this;
    }

    /// <summary>Adds operations to the success branch.</summary>
    /// <param name="ops">Operations (see <see cref="EtcdOp.ToOp(PutRequest)"/> and overloads).</param>
    /// <returns>This builder.</returns>
    public EtcdTxn Then(params RequestOp[] ops)
    {
        _request.Success.AddRange(ops);
        return this;
    }

    /// <summary>Adds operations to the failure branch.</summary>
    /// <param name="ops">Operations.</param>
    /// <returns>This builder.</returns>
    public EtcdTxn Else(params RequestOp[] ops)
    {
        _request.Failure.AddRange(ops);
        return this;
    }

    /// <summary>The request built so far (the same instance; further builder calls change it).</summary>
    /// <returns>The transaction request.</returns>
    public TxnRequest Build() => _request;
}
