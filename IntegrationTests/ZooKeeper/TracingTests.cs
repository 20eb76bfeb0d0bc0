using System.Diagnostics;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

/// <summary>The client's spans (<see cref="ZooKeeperClient.ActivitySourceName"/>) against the real server: one per
/// operation, under the caller's activity, with the operation, path, server and outcome.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class TracingTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task Each_operation_is_one_client_span_under_the_callers_activity_with_its_path_server_and_outcome()
    {
        using var recorder = new SpanRecorder(ZooKeeperClient.ActivitySourceName);
        await using var zk = await ConnectAsync(await NewChrootAsync(fixture.ConnectionString, "trace"));
        var port = fixture.Server.Members[0].ClientPort;

        var ambient = recorder.StartAmbient("test.zookeeper");
        await zk.CreateAsync("/t", "x"u8.ToArray());
        // The span is not the caller's current activity, neither while the request is in flight nor after.
        Assert.Same(ambient, Activity.Current);
        await zk.SetDataAsync("/t", "y"u8.ToArray());
        await zk.GetDataAsync("/t");
        await zk.GetChildrenAsync("/");
        Assert.Null(await zk.ExistsAsync("/absent"));
        await zk.SyncAsync();
        await zk.MultiAsync([ZooKeeperOperation.Check("/t", 1), ZooKeeperOperation.Create("/t/c", default)]);
        await Assert.ThrowsAsync<NoNodeException>(() => zk.GetDataAsync("/missing"));
        var failedMulti = await Assert.ThrowsAsync<MultiOperationException>(() =>
            zk.MultiAsync([ZooKeeperOperation.Create("/t/d", default), ZooKeeperOperation.Delete("/nothing")]));
        Assert.Same(ambient, Activity.Current);
        ambient.Stop();

        var spans = recorder.InTrace(ambient);
        Assert.Equal(
            new[] { "create", "set_data", "get_data", "get_children", "exists", "sync", "multi", "get_data", "multi" },
            spans.Select(s => s.DisplayName));
        Assert.All(spans, s =>
        {
            Assert.Equal(ActivityKind.Client, s.Kind);
            Assert.Equal(ZooKeeperClient.ActivitySourceName, s.Source.Name);
            Assert.Equal(ambient.SpanId, s.ParentSpanId);
            Assert.Equal("zookeeper", s.GetTagItem("db.system"));
            Assert.Equal(s.DisplayName, s.GetTagItem("db.operation.name"));
            Assert.Equal("127.0.0.1", s.GetTagItem("server.address"));
            Assert.Equal(port, s.GetTagItem("server.port"));
        });

        // Paths as the caller named them (the chroot is the client's business); a multi has its size instead.
        Assert.Equal(
            new object?[] { "/t", "/t", "/t", "/", "/absent", "/", null, "/missing", null },
            spans.Select(s => s.GetTagItem("db.zookeeper.path")));
        Assert.Equal(new object?[] { 2, 2 }, spans.Where(s => s.DisplayName == "multi").Select(s => s.GetTagItem("db.operation.batch.size")));

        // Successes leave the status unset (exists of a missing node is an answer, not a failure); failures say why.
        Assert.All(spans.Take(7), s => Assert.Equal(ActivityStatusCode.Unset, s.Status));
        var noNode = spans[7];
        Assert.Equal(ActivityStatusCode.Error, noNode.Status);
        Assert.Equal(typeof(NoNodeException).FullName, noNode.GetTagItem("error.type"));
        Assert.Equal("NoNode", noNode.GetTagItem("db.response.status_code"));
        var multi = spans[8];
        Assert.Equal(ActivityStatusCode.Error, multi.Status);
        Assert.Equal(typeof(MultiOperationException).FullName, multi.GetTagItem("error.type"));
        Assert.Equal(failedMulti.Code.ToString(), multi.GetTagItem("db.response.status_code"));
    }

    [Fact]
    public async Task A_request_refused_while_cut_off_from_the_server_is_a_failed_span_without_a_server()
    {
        using var recorder = new SpanRecorder(ZooKeeperClient.ActivitySourceName);
        var servers = await NewChrootAsync(fixture.ConnectionString, "trace");
        await using var proxy = TcpProxy.Start(fixture.Server.Members[0].ClientAddress);
        await using var zk = await ConnectAsync(proxy.Address + servers[servers.IndexOf('/', StringComparison.Ordinal)..]);
        proxy.RejectNew = true;
        proxy.CutAll();
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Suspended, Deadline, () => $"state {zk.State}");

        var ambient = recorder.StartAmbient("test.zookeeper.cut");
        await Assert.ThrowsAsync<ConnectionLossException>(() => zk.ExistsAsync("/"));
        ambient.Stop();

        var span = Assert.Single(recorder.InTrace(ambient));
        Assert.Equal("exists", span.DisplayName);
        Assert.Equal(ambient.SpanId, span.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(typeof(ConnectionLossException).FullName, span.GetTagItem("error.type"));
        Assert.Equal("ConnectionLoss", span.GetTagItem("db.response.status_code"));
        Assert.Null(span.GetTagItem("server.address"));
    }
}
