using System.Diagnostics;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>The client's spans (<see cref="EtcdClient.ActivitySourceName"/>) against the real server: one per unary
/// call, under the caller's activity, named after the gRPC method; the watch stream's opening as a root span.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdTracingTests(EtcdFixture fixture)
{
    private readonly string _p = TestNames.Unique("trace") + "/";

    [Fact]
    public async Task Each_unary_call_is_one_client_span_under_the_callers_activity_with_its_method_endpoint_and_status()
    {
        using var recorder = new SpanRecorder(EtcdClient.ActivitySourceName);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });
        var port = fixture.Server.Members[0].ClientPort;

        var ambient = recorder.StartAmbient("test.etcd");
        await client.PutAsync(_p + "a", "1");
        Assert.NotNull(await client.GetAsync(_p + "a"));
        Assert.Same(ambient, Activity.Current);
        var missing = await Assert.ThrowsAnyAsync<EtcdException>(() => client.RevokeLeaseAsync(0x7eadbeef));
        ambient.Stop();

        var spans = recorder.InTrace(ambient);
        Assert.Equal(
            new[] { "etcdserverpb.KV/Put", "etcdserverpb.KV/Range", "etcdserverpb.Lease/LeaseRevoke" },
            spans.Select(s => s.DisplayName));
        Assert.All(spans, s =>
        {
            Assert.Equal(ActivityKind.Client, s.Kind);
            Assert.Equal(ambient.SpanId, s.ParentSpanId);
            Assert.Equal("grpc", s.GetTagItem("rpc.system"));
            Assert.Equal("etcd", s.GetTagItem("db.system"));
            Assert.Equal("127.0.0.1", s.GetTagItem("server.address"));
            Assert.Equal(port, s.GetTagItem("server.port"));
            Assert.Equal(1, s.GetTagItem("etcd.attempts"));
        });
        Assert.Equal(new object?[] { "etcdserverpb.KV", "etcdserverpb.KV", "etcdserverpb.Lease" }, spans.Select(s => s.GetTagItem("rpc.service")));
        Assert.Equal(new object?[] { "Put", "Range", "LeaseRevoke" }, spans.Select(s => s.GetTagItem("rpc.method")));
        Assert.All(spans.Take(2), s =>
        {
            Assert.Equal(ActivityStatusCode.Unset, s.Status);
            Assert.Equal((int)GrpcStatusCode.OK, s.GetTagItem("rpc.grpc.status_code"));
        });

        // The server refused the revoke (no such lease): the span says what the caller got.
        var revoke = spans[2];
        Assert.Equal(ActivityStatusCode.Error, revoke.Status);
        Assert.Equal(missing.GetType().FullName, revoke.GetTagItem("error.type"));
        Assert.Equal((int)GrpcStatusCode.NotFound, revoke.GetTagItem("rpc.grpc.status_code"));
    }

    [Fact]
    public async Task A_call_to_a_stopped_server_is_one_failed_span_that_counts_its_attempts()
    {
        using var recorder = new SpanRecorder(EtcdClient.ActivitySourceName);
        var closed = PortAllocatorForTests.ClosedPort();
        await using var client = new EtcdClient(new EtcdClientOptions
        {
            Endpoints = $"127.0.0.1:{closed}",
            RequestTimeout = TimeSpan.FromSeconds(3),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
        });

        var ambient = recorder.StartAmbient("test.etcd.down");
        await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.GetAsync(_p + "x"));
        ambient.Stop();

        // Refused connections are retried inside the call: still one span, with the attempts it made.
        var span = Assert.Single(recorder.InTrace(ambient));
        Assert.Equal("etcdserverpb.KV/Range", span.DisplayName);
        Assert.Equal(ambient.SpanId, span.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(typeof(EtcdUnavailableException).FullName, span.GetTagItem("error.type"));
        Assert.Equal((int)GrpcStatusCode.Unavailable, span.GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(closed, span.GetTagItem("server.port"));
        Assert.True((int)span.GetTagItem("etcd.attempts")! > 1, $"attempts: {span.GetTagItem("etcd.attempts")}");
    }

    [Fact]
    public async Task Opening_the_watch_stream_is_a_root_span_and_its_events_have_none()
    {
        using var recorder = new SpanRecorder(EtcdClient.ActivitySourceName);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = fixture.Endpoints });

        var ambient = recorder.StartAmbient("test.etcd.watch");
        await using var watch = await client.WatchAsync(_p + "w");
        await client.PutAsync(_p + "w", "1");
        await using (var batches = watch.ReadAllAsync().GetAsyncEnumerator())
        {
            Assert.True(await batches.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        }

        ambient.Stop();

        // The stream serves every later watch of the client: it belongs to no caller's trace.
        Assert.Equal(new[] { "etcdserverpb.KV/Put" }, recorder.InTrace(ambient).Select(s => s.DisplayName));
        var opened = recorder.Stopped.Where(s => s.DisplayName == "etcdserverpb.Watch/Watch" && s.ParentSpanId == default).ToList();
        Assert.NotEmpty(opened);
        Assert.Contains(opened, s => s.Kind == ActivityKind.Client && (string?)s.GetTagItem("rpc.method") == "Watch");
    }
}
