using ControlPlane.Etcd;
using ControlPlane.Etcd.Internal;

namespace ControlPlane.UnitTests.Etcd;

public class GrpcStatusTests
{
    [Theory]
    [InlineData("etcdserver: mvcc: required revision has been compacted", "etcdserver: mvcc: required revision has been compacted")]
    [InlineData("caf%C3%A9 %25 done", "café % done")]
    [InlineData("bad %ZZ escape", "bad %ZZ escape")]
    [InlineData("trailing %4", "trailing %4")]
    public void PercentDecode_turns_percent_encoded_utf8_into_text(string encoded, string expected)
    {
        Assert.Equal(expected, GrpcStatus.PercentDecode(encoded));
    }

    [Theory]
    [InlineData("0", GrpcStatusCode.OK)]
    [InlineData("11", GrpcStatusCode.OutOfRange)]
    [InlineData("16", GrpcStatusCode.Unauthenticated)]
    [InlineData("17", GrpcStatusCode.Unknown)]
    [InlineData("x", GrpcStatusCode.Unknown)]
    [InlineData(null, GrpcStatusCode.Unknown)]
    public void ParseCode_maps_numbers_and_treats_anything_else_as_unknown(string? value, GrpcStatusCode expected)
    {
        Assert.Equal(expected, GrpcStatus.ParseCode(value));
    }

    [Fact]
    public void Find_prefers_trailers_and_falls_back_to_headers_for_trailers_only_responses()
    {
        using var withTrailers = new HttpResponseMessage();
        withTrailers.TrailingHeaders.TryAddWithoutValidation("grpc-status", "5");
        withTrailers.TrailingHeaders.TryAddWithoutValidation("grpc-message", "etcdserver: requested lease not found");
        Assert.Equal((GrpcStatusCode.NotFound, "etcdserver: requested lease not found"),
            GrpcStatus.Find(withTrailers.Headers, withTrailers.TrailingHeaders));

        using var trailersOnly = new HttpResponseMessage();
        trailersOnly.Headers.TryAddWithoutValidation("grpc-status", "16");
        trailersOnly.Headers.TryAddWithoutValidation("grpc-message", "etcdserver: invalid auth token");
        Assert.Equal((GrpcStatusCode.Unauthenticated, "etcdserver: invalid auth token"),
            GrpcStatus.Find(trailersOnly.Headers, trailersOnly.TrailingHeaders));

        using var unfinished = new HttpResponseMessage();
        Assert.Null(GrpcStatus.Find(unfinished.Headers, unfinished.TrailingHeaders));
    }

    [Fact]
    public void FromStatus_builds_the_typed_exception_a_caller_handles()
    {
        Assert.IsType<EtcdUnavailableException>(EtcdException.FromStatus(GrpcStatusCode.Unavailable, "etcdserver: no leader"));
        Assert.IsType<EtcdAuthenticationException>(EtcdException.FromStatus(GrpcStatusCode.Unauthenticated, "etcdserver: invalid auth token"));
        Assert.IsType<EtcdTimeoutException>(EtcdException.FromStatus(GrpcStatusCode.DeadlineExceeded, "context deadline exceeded"));
        Assert.IsType<EtcdCompactedException>(EtcdException.FromStatus(GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"));
        var future = EtcdException.FromStatus(GrpcStatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
        Assert.IsNotType<EtcdCompactedException>(future);
        Assert.Equal(GrpcStatusCode.OutOfRange, future.StatusCode);
    }

    [Theory]
    [InlineData(5_000, "5000m")]
    [InlineData(0.2, "1m")]
    [InlineData(200_000_000, "200000S")]
    public void EncodeTimeout_uses_at_most_eight_digits_and_rounds_up(double milliseconds, string expected)
    {
        Assert.Equal(expected, GrpcStatus.EncodeTimeout(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void Only_connection_failures_count_as_provably_not_sent()
    {
        Assert.True(ControlPlane.Etcd.EtcdClient.NotSent(new HttpRequestException(HttpRequestError.ConnectionError, "refused")));
        Assert.False(ControlPlane.Etcd.EtcdClient.NotSent(new HttpRequestException(HttpRequestError.ResponseEnded, "cut")));
        Assert.False(ControlPlane.Etcd.EtcdClient.IsRetryable(new IOException("reset"), idempotent: false));
        Assert.True(ControlPlane.Etcd.EtcdClient.IsRetryable(new IOException("reset"), idempotent: true));
        Assert.True(ControlPlane.Etcd.EtcdClient.IsRetryable(new EtcdUnavailableException("etcdserver: leader changed"), idempotent: true));
        Assert.False(ControlPlane.Etcd.EtcdClient.IsRetryable(new EtcdUnavailableException("etcdserver: leader changed"), idempotent: false));
        Assert.False(ControlPlane.Etcd.EtcdClient.IsRetryable(new EtcdException(GrpcStatusCode.InvalidArgument, "bad"), idempotent: true));
    }
}
