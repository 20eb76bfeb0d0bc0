using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>Runs the operations as one atomic transaction: all apply or none does.</summary>
    /// <returns>One result per operation, in order.</returns>
    /// <exception cref="MultiOperationException">An operation failed; nothing was applied. Its index and code are
    /// on the exception.</exception>
    public Task<IReadOnlyList<OperationResult>> MultiAsync(IEnumerable<ZooKeeperOperation> operations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ZooKeeperOperation[] ops = [.. operations];
        // The server would accept an empty multi; a round trip that can change nothing is not worth it.
        if (ops.Length == 0)
            return Task.FromResult<IReadOnlyList<OperationResult>>([]);
        var writer = JuteWriter.ForRequest(OpCode.Multi, ops.Length * 64);
        foreach (var op in ops)
        {
            // MultiHeader {type, done=false, err=-1} then the op's own request record.
            writer.WriteInt((int)op.Op);
            writer.WriteBool(false);
            writer.WriteInt(-1);
            op.Write(ref writer, ToServerPath(op.Path));
        }

        // The terminating header: type -1, done = true.
        writer.WriteInt(-1);
        writer.WriteBool(true);
        writer.WriteInt(-1);
        // No single path for the request: a failure names its operation's path via MultiOperationException.
        var request = new PendingReply<IReadOnlyList<OperationResult>>(OpCode.Multi, null, ParseMulti, ops);
        return Submit(ref writer, request, cancellationToken);
    }

    /// <summary>Decodes a multi reply: MultiHeader + body per op until a header with done=true. The reply header's
    /// err is 0 even when the transaction failed; then every result is an error result.</summary>
    internal static IReadOnlyList<OperationResult> ParseMulti(ref JuteReader body, IReplyContext context, object? state)
    {
        var ops = (ZooKeeperOperation[])state!;
        var results = new List<OperationResult>(ops.Length);
        var failedIndex = -1;
        var failedCode = ErrorCode.Ok;
        while (true)
        {
            var type = body.ReadInt();
            var done = body.ReadBool();
            var err = body.ReadInt();
            if (done)
                break;
            switch ((OpCode)type)
            {
                case OpCode.Create:
                    // 3.8 answers create2 operations inside a multi with plain create results: no Stat.
                    results.Add(new CreateOperationResult(context.ToClientPath(body.ReadString() ?? "/"), null));
                    break;
                case OpCode.Create2:
                case OpCode.CreateContainer:
                case OpCode.CreateTtl:
                    results.Add(new CreateOperationResult(context.ToClientPath(body.ReadString() ?? "/"), body.ReadStat()));
                    break;
                case OpCode.Delete:
                    results.Add(new DeleteOperationResult());
                    break;
                case OpCode.SetData:
                    results.Add(new SetDataOperationResult(body.ReadStat()));
                    break;
                case OpCode.Check:
                    results.Add(new CheckOperationResult());
                    break;
                case OpCode.Error:
                    // The error record repeats the code in its body.
                    var code = (ErrorCode)body.ReadInt();
                    if (failedIndex < 0 && code is not ErrorCode.Ok and not ErrorCode.RuntimeInconsistency)
                    {
                        failedIndex = results.Count;
                        failedCode = code;
                    }

                    results.Add(new ErrorOperationResult(code));
                    break;
                default:
                    throw new JuteFormatException($"Unexpected multi result type {type} (err {err})");
            }
        }

        if (failedIndex >= 0)
        {
            var path = failedIndex < ops.Length ? ops[failedIndex].Path : null;
            throw new MultiOperationException(failedIndex, failedCode, path, results);
        }

        return results;
    }
}
