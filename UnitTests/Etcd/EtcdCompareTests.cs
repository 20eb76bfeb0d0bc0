using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;
using static ControlPlane.Etcd.Rpc.Compare.Types;

namespace ControlPlane.UnitTests.Etcd;

public class EtcdCompareTests
{
    [Fact]
    public void A_hand_built_compare_defaults_to_the_version_target_which_is_the_pitfall()
    {
        var naive = new Compare { Key = EtcdKeys.Key("k"), CreateRevision = 0 };

        Assert.Equal(CompareTarget.Version, naive.Target);
    }

    [Fact]
    public void Every_builder_sets_its_target_explicitly_with_the_matching_operand()
    {
        var cases = new (Compare Compare, CompareTarget Target, Compare.TargetUnionOneofCase Operand)[]
        {
            (EtcdCompare.Version("k", CompareResult.Equal, 2), CompareTarget.Version, Compare.TargetUnionOneofCase.Version),
            (EtcdCompare.CreateRevision("k", CompareResult.Equal, 0), CompareTarget.Create, Compare.TargetUnionOneofCase.CreateRevision),
            (EtcdCompare.ModRevision("k", CompareResult.Less, 9), CompareTarget.Mod, Compare.TargetUnionOneofCase.ModRevision),
            (EtcdCompare.Value("k", CompareResult.NotEqual, "v"), CompareTarget.Value, Compare.TargetUnionOneofCase.Value),
            (EtcdCompare.Lease("k", CompareResult.Greater, 7), CompareTarget.Lease, Compare.TargetUnionOneofCase.Lease),
        };

        foreach (var (compare, target, operand) in cases)
        {
            Assert.Equal(target, compare.Target);
            Assert.Equal(operand, compare.TargetUnionCase);
            Assert.Equal("k", compare.Key.ToStringUtf8());
        }
    }

    [Fact]
    public void CreateRevision_zero_serialises_the_target_even_though_the_operand_is_the_default()
    {
        var absent = EtcdCompare.CreateRevision("k", CompareResult.Equal, 0);

        var parsed = Compare.Parser.ParseFrom(absent.ToByteArray());

        Assert.Equal(CompareTarget.Create, parsed.Target);
        Assert.Equal(Compare.TargetUnionOneofCase.CreateRevision, parsed.TargetUnionCase);
    }

    [Fact]
    public void Txn_builder_nests_transactions_as_operations()
    {
        var inner = new EtcdTxn().If(EtcdCompare.Version("b", CompareResult.Greater, 0)).Then(EtcdOp.Delete("b").ToOp()).Build();
        var outer = new EtcdTxn()
            .If(EtcdCompare.CreateRevision("a", CompareResult.Equal, 0))
            .Then(EtcdOp.Put("a", "1").ToOp(), inner.ToOp())
            .Else(EtcdOp.Get("a").ToOp())
            .Build();

        Assert.Single(outer.Compare);
        Assert.Equal(RequestOp.RequestOneofCase.RequestTxn, outer.Success[1].RequestCase);
        Assert.Equal(RequestOp.RequestOneofCase.RequestRange, outer.Failure[0].RequestCase);
    }
}
