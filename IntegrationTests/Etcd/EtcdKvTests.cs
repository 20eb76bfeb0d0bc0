using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using ControlPlane.TestSupport;
using Google.Protobuf;
using static ControlPlane.Etcd.Rpc.Compare.Types;

namespace ControlPlane.IntegrationTests.Etcd;

[Collection(EtcdCollection.Name)]
public sealed class EtcdKvTests(EtcdFixture fixture) : IAsyncLifetime
{
    private readonly string _p = TestNames.Unique("kv") + "/";
    private EtcdClient _client = null!;

    public Task InitializeAsync()
    {
        _client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Put_then_get_returns_the_value_with_revisions_and_version()
    {
        var put = await _client.PutAsync(_p + "a", "1");
        var second = await _client.PutAsync(EtcdOp.Put(_p + "a", "2"));
        var kv = await _client.GetAsync(_p + "a");

        Assert.NotNull(kv);
        Assert.Equal("2", kv.Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision, kv.CreateRevision);
        Assert.Equal(second.Header.Revision, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.Null(await _client.GetAsync(_p + "missing"));
    }

    [Fact]
    public async Task Put_options_return_the_previous_value_and_can_keep_value_or_lease()
    {
        await _client.PutAsync(_p + "k", "old");
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(30), keepAlive: false);

        var withPrev = await _client.PutAsync(new PutRequest { Key = EtcdKeys.Key(_p + "k"), Value = ByteString.CopyFromUtf8("new"), PrevKv = true, Lease = lease.Id });
        Assert.Equal("old", withPrev.PrevKv.Value.ToStringUtf8());

        // ignore_value: re-attach without rewriting the value; ignore_lease: rewrite the value, keep the lease.
        await _client.PutAsync(new PutRequest { Key = EtcdKeys.Key(_p + "k"), IgnoreValue = true, Lease = lease.Id });
        await _client.PutAsync(new PutRequest { Key = EtcdKeys.Key(_p + "k"), Value = ByteString.CopyFromUtf8("newer"), IgnoreLease = true });
        var kv = await _client.GetAsync(_p + "k");

        Assert.Equal("newer", kv!.Value.ToStringUtf8());
        Assert.Equal(lease.Id, kv.Lease);
        await _client.RevokeLeaseAsync(lease);
        Assert.Null(await _client.GetAsync(_p + "k"));
    }

    [Fact]
    public async Task Range_options_limit_sort_count_keys_only_and_revision_bounds_are_honoured()
    {
        var revisions = new List<long>();
        foreach (var name in new[] { "c", "a", "b", "d" })
        {
            revisions.Add((await _client.PutAsync(_p + "r/" + name, "value-" + name)).Header.Revision);
        }

        var limited = await _client.RangeAsync(EtcdOp.GetPrefix(_p + "r/", limit: 2));
        Assert.Equal(["a", "b"], limited.Kvs.Select(k => k.Key.ToStringUtf8()[^1..]));
        Assert.True(limited.More);
        Assert.Equal(4, limited.Count);

        var sorted = EtcdOp.GetPrefix(_p + "r/");
        sorted.SortOrder = RangeRequest.Types.SortOrder.Descend;
        sorted.SortTarget = RangeRequest.Types.SortTarget.Create;
        Assert.Equal(["d", "b", "a", "c"], (await _client.RangeAsync(sorted)).Kvs.Select(k => k.Key.ToStringUtf8()[^1..]));

        var count = EtcdOp.GetPrefix(_p + "r/");
        count.CountOnly = true;
        var counted = await _client.RangeAsync(count);
        Assert.Equal(4, counted.Count);
        Assert.Empty(counted.Kvs);

        var keysOnly = EtcdOp.GetPrefix(_p + "r/");
        keysOnly.KeysOnly = true;
        Assert.All((await _client.RangeAsync(keysOnly)).Kvs, kv => Assert.True(kv.Value.IsEmpty));

        var atRevision = EtcdOp.GetPrefix(_p + "r/");
        atRevision.Revision = revisions[1];
        Assert.Equal(2, (await _client.RangeAsync(atRevision)).Kvs.Count);

        var window = EtcdOp.GetPrefix(_p + "r/");
        window.MinModRevision = revisions[1];
        window.MaxModRevision = revisions[2];
        Assert.Equal(["a", "b"], (await _client.RangeAsync(window)).Kvs.Select(k => k.Key.ToStringUtf8()[^1..]));

        var created = EtcdOp.GetPrefix(_p + "r/");
        created.MinCreateRevision = revisions[3];
        Assert.Equal(["d"], (await _client.RangeAsync(created)).Kvs.Select(k => k.Key.ToStringUtf8()[^1..]));

        var serializable = EtcdOp.GetPrefix(_p + "r/");
        serializable.Serializable = true;
        var local = await _client.RangeAsync(serializable);
        Assert.True(local.Header.Revision >= revisions[3]);
        Assert.Equal(4, local.Kvs.Count);
    }

    [Fact]
    public async Task Prefix_ranges_of_non_ascii_keys_include_every_key_under_the_prefix_and_nothing_else()
    {
        // "é" is C3 A9 and "ê" is C3 AA: a character-wise prefix end would be wrong for bytes like C3 A9 FF.
        var prefix = _p + "é";
        await _client.PutAsync(prefix, "exact");
        await _client.PutAsync(prefix + "/x", "child");
        await _client.PutAsync(new PutRequest { Key = ByteString.CopyFrom([.. EtcdKeys.Key(prefix), 0xFF, 0xFF]), Value = ByteString.CopyFromUtf8("ff") });
        await _client.PutAsync(_p + "ê", "sibling");
        await _client.PutAsync(_p + "日本/1", "cjk");
        await _client.PutAsync(_p + "日本/2", "cjk");
        await _client.PutAsync(_p + "日付", "other");

        var accented = await _client.RangeAsync(EtcdOp.GetPrefix(prefix));
        var cjk = await _client.RangeAsync(EtcdOp.GetPrefix(_p + "日本"));

        Assert.Equal(3, accented.Kvs.Count);
        Assert.DoesNotContain(accented.Kvs, kv => kv.Value.ToStringUtf8() == "sibling");
        Assert.Equal(["cjk", "cjk"], cjk.Kvs.Select(kv => kv.Value.ToStringUtf8()));
    }

    [Fact]
    public async Task DeleteRange_deletes_a_prefix_and_returns_the_previous_values()
    {
        await _client.PutAsync(_p + "d/1", "x");
        await _client.PutAsync(_p + "d/2", "y");
        await _client.PutAsync(_p + "e", "z");

        var request = EtcdOp.DeletePrefix(_p + "d/");
        request.PrevKv = true;
        var deleted = await _client.DeleteRangeAsync(request);

        Assert.Equal(2, deleted.Deleted);
        Assert.Equal(["x", "y"], deleted.PrevKvs.Select(kv => kv.Value.ToStringUtf8()));
        Assert.NotNull(await _client.GetAsync(_p + "e"));
        Assert.Equal(0, (await _client.DeleteRangeAsync(EtcdOp.Delete(_p + "d/1"))).Deleted);
    }

    [Fact]
    public async Task A_compare_without_an_explicit_target_compares_the_version_which_is_the_pitfall_the_builder_avoids()
    {
        var key = _p + "leader";
        var created = await _client.PutAsync(key, "me");
        await _client.PutAsync(key, "me-again"); // version 2, create revision unchanged

        // The pitfall: only the operand set, the target left at its default (VERSION): compares version 2 with
        // the create revision, so a fenced write meant to succeed fails.
        var naive = new Compare { Key = EtcdKeys.Key(key), Result = CompareResult.Equal, CreateRevision = created.Header.Revision };
        var pitfall = await _client.TxnAsync(new TxnRequest { Compare = { naive }, Success = { EtcdOp.Put(key, "fenced").ToOp() } });
        Assert.False(pitfall.Succeeded);

        var fenced = await _client.TxnAsync(new EtcdTxn()
            .If(EtcdCompare.CreateRevision(key, CompareResult.Equal, created.Header.Revision))
            .Then(EtcdOp.Put(key, "fenced").ToOp()));
        Assert.True(fenced.Succeeded);
        Assert.Equal("fenced", (await _client.GetAsync(key))!.Value.ToStringUtf8());
    }

    [Fact]
    public async Task Every_compare_target_decides_the_branch_as_its_operand_says()
    {
        var key = _p + "cmp";
        var lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(30), keepAlive: false);
        var put = await _client.PutAsync(EtcdOp.Put(key, "v1", lease.Id));

        async Task<bool> Holds(Compare compare) => (await _client.TxnAsync(new EtcdTxn().If(compare))).Succeeded;

        Assert.True(await Holds(EtcdCompare.Version(key, CompareResult.Equal, 1)));
        Assert.True(await Holds(EtcdCompare.CreateRevision(key, CompareResult.Equal, put.Header.Revision)));
        Assert.True(await Holds(EtcdCompare.ModRevision(key, CompareResult.Less, put.Header.Revision + 1)));
        Assert.True(await Holds(EtcdCompare.Value(key, CompareResult.Equal, "v1")));
        Assert.True(await Holds(EtcdCompare.Value(key, CompareResult.NotEqual, "v2")));
        Assert.True(await Holds(EtcdCompare.Lease(key, CompareResult.Equal, lease.Id)));
        Assert.False(await Holds(EtcdCompare.Version(key, CompareResult.Greater, 1)));
        // A missing key compares as zero: the "key absent" test.
        Assert.True(await Holds(EtcdCompare.CreateRevision(_p + "absent", CompareResult.Equal, 0)));
        Assert.True(await Holds(EtcdCompare.Version(_p + "cmp", CompareResult.Greater, 0).WithRangeEnd(EtcdKeys.PrefixEnd(_p + "cmp"))));
        await _client.RevokeLeaseAsync(lease);
    }

    [Fact]
    public async Task Txn_runs_the_success_or_failure_branch_including_nested_transactions()
    {
        var key = _p + "t";
        var create = new EtcdTxn()
            .If(EtcdCompare.CreateRevision(key, CompareResult.Equal, 0))
            .Then(
                EtcdOp.Put(key, "created").ToOp(),
                new EtcdTxn()
                    .If(EtcdCompare.Version(_p + "inner", CompareResult.Equal, 0))
                    .Then(EtcdOp.Put(_p + "inner", "from-nested").ToOp())
                    .Build().ToOp())
            .Else(EtcdOp.Get(key).ToOp());

        var first = await _client.TxnAsync(create);
        var second = await _client.TxnAsync(create);

        Assert.True(first.Succeeded);
        Assert.True(first.Responses[1].ResponseTxn.Succeeded);
        Assert.Equal("from-nested", (await _client.GetAsync(_p + "inner"))!.Value.ToStringUtf8());
        Assert.False(second.Succeeded);
        Assert.Equal("created", second.Responses[0].ResponseRange.Kvs[0].Value.ToStringUtf8());
        // One transaction, one revision.
        Assert.Equal(first.Header.Revision, (await _client.GetAsync(_p + "inner"))!.ModRevision);
    }

    [Fact]
    public async Task Server_errors_arrive_as_exceptions_with_the_grpc_code_and_etcds_message()
    {
        var noKey = await Assert.ThrowsAsync<EtcdException>(() => _client.PutAsync(new PutRequest { Value = ByteString.CopyFromUtf8("x") }));
        Assert.Equal(GrpcStatusCode.InvalidArgument, noKey.StatusCode);
        Assert.Contains("key is not provided", noKey.Message, StringComparison.Ordinal);

        var noLease = await Assert.ThrowsAsync<EtcdException>(() => _client.RevokeLeaseAsync(0x7ABCDEF));
        Assert.Equal(GrpcStatusCode.NotFound, noLease.StatusCode);

        var duplicate = await Assert.ThrowsAsync<EtcdException>(() => _client.TxnAsync(new EtcdTxn()
            .Then(EtcdOp.Put(_p + "dup", "1").ToOp(), EtcdOp.Put(_p + "dup", "2").ToOp())));
        Assert.Equal(GrpcStatusCode.InvalidArgument, duplicate.StatusCode);

        var future = EtcdOp.Get(_p + "x");
        future.Revision = long.MaxValue / 2;
        var ahead = await Assert.ThrowsAsync<EtcdException>(() => _client.RangeAsync(future));
        Assert.Equal(GrpcStatusCode.OutOfRange, ahead.StatusCode);
    }

    [Fact]
    public async Task Reading_a_compacted_revision_throws_a_compaction_exception()
    {
        var old = await _client.PutAsync(_p + "old", "1");
        var latest = await _client.PutAsync(_p + "old", "2");
        await _client.CompactAsync(latest.Header.Revision, physical: true);

        var request = EtcdOp.Get(_p + "old");
        request.Revision = old.Header.Revision;
        await Assert.ThrowsAsync<EtcdCompactedException>(() => _client.RangeAsync(request));
    }

    [Fact]
    public async Task Status_and_member_list_describe_the_cluster()
    {
        var status = await _client.StatusAsync();
        var members = await _client.MemberListAsync();
        var direct = await _client.StatusAsync(fixture.Server.Members[0].ClientAddress);

        Assert.StartsWith("3.4", status.Version, StringComparison.Ordinal);
        Assert.Equal(status.Header.MemberId, status.Leader);
        Assert.Equal(direct.Header.MemberId, status.Header.MemberId);
        var member = Assert.Single(members.Members);
        Assert.Contains(member.ClientURLs, url => url.EndsWith(":" + fixture.Server.Members[0].ClientPort, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_to_an_endpoint_that_refuses_connections_fail_over_to_one_that_serves()
    {
        // A closed port first: connect refused proves the write never left, so even Put may go elsewhere.
        var dead = "127.0.0.1:" + PortAllocatorForTests.ClosedPort();
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = dead + "," + fixture.Endpoints });

        await client.PutAsync(_p + "failover", "ok");

        Assert.Equal("ok", (await client.GetAsync(_p + "failover"))!.Value.ToStringUtf8());
        Assert.EndsWith(":" + fixture.Server.Members[0].ClientPort + "/", client.CurrentEndpoint.ToString(), StringComparison.Ordinal);
    }
}
