using ControlPlane.Etcd;

namespace ControlPlane.UnitTests.Etcd;

public class EtcdLeaseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_answer_extends_the_deadline_from_the_oldest_unanswered_send_never_a_later_one()
    {
        var lease = new EtcdLease(1, 9, T0 + TimeSpan.FromSeconds(9));
        lease.RecordSent(T0 + TimeSpan.FromSeconds(1));
        lease.RecordSent(T0 + TimeSpan.FromSeconds(4)); // re-sent while the first was unanswered

        Assert.True(lease.RecordAnswer(ttlSeconds: 9));
        Assert.Equal(T0 + TimeSpan.FromSeconds(10), lease.Deadline);

        Assert.True(lease.RecordAnswer(ttlSeconds: 9));
        Assert.Equal(T0 + TimeSpan.FromSeconds(13), lease.Deadline);
    }

    [Fact]
    public void An_answer_without_an_outstanding_send_does_not_move_the_deadline()
    {
        var lease = new EtcdLease(1, 9, T0 + TimeSpan.FromSeconds(9));

        Assert.False(lease.RecordAnswer(ttlSeconds: 9));
        Assert.Equal(T0 + TimeSpan.FromSeconds(9), lease.Deadline);
    }

    [Fact]
    public async Task Loss_is_reported_once_and_cancels_the_token_while_revoked_leases_never_report_loss()
    {
        var lost = new EtcdLease(1, 5, T0);
        Assert.True(lost.MarkLost("no keepalive confirmed"));
        Assert.False(lost.MarkLost("again"));
        Assert.Equal(EtcdLeaseState.Lost, lost.State);
        Assert.True(lost.LostToken.IsCancellationRequested);
        Assert.Equal("no keepalive confirmed", await lost.Lost);

        var revoked = new EtcdLease(2, 5, T0);
        revoked.MarkEnded(EtcdLeaseState.Revoked);
        Assert.False(revoked.MarkLost("late"));
        Assert.Equal(EtcdLeaseState.Revoked, revoked.State);
        Assert.False(revoked.Lost.IsCompleted);
    }

    [Fact]
    public async Task Lease_deadlines_follow_the_monotonic_clock_not_a_stepped_wall_clock()
    {
        var time = new SteppedWallClock();
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = "127.0.0.1:1" }, timeProvider: time);
        var before = client.MonotonicNow;

        time.Step = -TimeSpan.FromMinutes(5); // NTP steps the machine's clock back

        Assert.True(client.MonotonicNow >= before, $"{client.MonotonicNow:O} went back from {before:O}");
        Assert.True(client.MonotonicNow - before < TimeSpan.FromMinutes(1));
    }

    /// <summary>The system clock, with a wall-clock offset a test can step; timestamps stay monotonic.</summary>
    private sealed class SteppedWallClock : TimeProvider
    {
        public TimeSpan Step { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Step;
    }
}
