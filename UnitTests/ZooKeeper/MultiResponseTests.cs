using System.Buffers;
using ControlPlane.ZooKeeper;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.UnitTests.ZooKeeper;

public class MultiResponseTests
{
    private static readonly ZooKeeperOperation[] Ops =
    [
        ZooKeeperOperation.Create("/a", new byte[] { 1 }),
        ZooKeeperOperation.Delete("/b"),
        ZooKeeperOperation.SetData("/c", new byte[] { 2 }),
        ZooKeeperOperation.Check("/d", 3),
    ];

    [Fact]
    public void A_successful_multi_yields_one_typed_result_per_operation_with_the_chroot_stripped()
    {
        var stat = new Stat(1, 2, 3, 4, 5, 6, 7, 0, 9, 0, 11);
        var body = Build((ref JuteWriter w) =>
        {
            Header(ref w, OpCode.Create2, 0);
            w.WriteString("/app/a");
            JuteEncodingTests.WriteStat(ref w, stat);
            Header(ref w, OpCode.Delete, 0);
            Header(ref w, OpCode.SetData, 0);
            JuteEncodingTests.WriteStat(ref w, stat);
            Header(ref w, OpCode.Check, 0);
            End(ref w);
        });

        var results = Parse(body);

        Assert.Equal(new CreateOperationResult("/a", stat), results[0]);
        Assert.IsType<DeleteOperationResult>(results[1]);
        Assert.Equal(new SetDataOperationResult(stat), results[2]);
        Assert.IsType<CheckOperationResult>(results[3]);
    }

    [Fact]
    public void A_failed_multi_throws_with_the_failing_index_code_and_path()
    {
        // ops before the failure report Ok, the failing one its code, later ones RuntimeInconsistency.
        var body = Build((ref JuteWriter w) =>
        {
            ErrorResult(ref w, ErrorCode.Ok);
            ErrorResult(ref w, ErrorCode.NoNode);
            ErrorResult(ref w, ErrorCode.RuntimeInconsistency);
            ErrorResult(ref w, ErrorCode.RuntimeInconsistency);
            End(ref w);
        });

        var error = Assert.Throws<MultiOperationException>(() => Parse(body));

        Assert.Equal(1, error.FailedIndex);
        Assert.Equal(ErrorCode.NoNode, error.Code);
        Assert.Equal("/b", error.Path);
        Assert.Equal(4, error.Results.Count);
        Assert.All(error.Results, r => Assert.IsType<ErrorOperationResult>(r));
        Assert.Contains("operation 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_create_result_has_no_stat()
    {
        var body = Build((ref JuteWriter w) =>
        {
            Header(ref w, OpCode.Create, 0);
            w.WriteString("/app/a0000000001");
            End(ref w);
        });
        Assert.Equal(new CreateOperationResult("/a0000000001", null), Parse(body)[0]);
    }

    [Fact]
    public void An_unknown_result_type_is_a_format_error()
    {
        var body = Build((ref JuteWriter w) =>
        {
            Header(ref w, OpCode.GetData, 0);
            End(ref w);
        });
        Assert.Throws<JuteFormatException>(() => Parse(body));
    }

    private static IReadOnlyList<OperationResult> Parse(byte[] body)
    {
        var reader = new JuteReader(body);
        return ControlPlane.ZooKeeper.ZooKeeperClient.ParseMulti(ref reader, new FakeContext("/app"), Ops);
    }

    private delegate void Fill(ref JuteWriter writer);

    private static byte[] Build(Fill fill)
    {
        var writer = new JuteWriter(64);
        fill(ref writer);
        var (buffer, length) = writer.Complete();
        var body = buffer.AsSpan(4, length - 4).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return body;
    }

    private static void Header(ref JuteWriter w, OpCode type, int err)
    {
        w.WriteInt((int)type);
        w.WriteBool(false);
        w.WriteInt(err);
    }

    private static void ErrorResult(ref JuteWriter w, ErrorCode code)
    {
        Header(ref w, OpCode.Error, (int)code);
        w.WriteInt((int)code);
    }

    private static void End(ref JuteWriter w)
    {
        w.WriteInt(-1);
        w.WriteBool(true);
        w.WriteInt(-1);
    }
}

/// <summary>A reply context with a chroot and a list of registered watches.</summary>
internal sealed class FakeContext(string? chroot) : IReplyContext
{
    public List<WatchRegistration> Registered { get; } = [];

    public string ToClientPath(string serverPath) => ChrootPath.ToClient(chroot, serverPath);

    public void RegisterWatch(WatchRegistration registration) => Registered.Add(registration);

    public void RecordCompletion(PendingReply request, int err)
    {
    }
}
