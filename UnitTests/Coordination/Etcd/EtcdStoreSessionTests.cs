using ControlPlane.Coordination;
using ControlPlane.Coordination.Etcd;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Coordination.Etcd;

public class EtcdStoreSessionTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(9);
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void A_session_connects_when_its_lease_is_granted_and_is_suspended_once_a_third_of_the_ttl_is_left()
    {
        var session = new EtcdStoreSession(Ttl, _time);
        Assert.Equal((SessionState.Connecting, 0L, TimeSpan.Zero), (session.State, session.Id, session.ProvablyAliveFor));

        var lease = new EtcdLease(7, 9, _time.GetUtcNow() + Ttl, _time.GetUtcNow);
        Assert.True(session.Establish(lease));
        Assert.Equal((SessionState.Connected, 7L, Ttl), (session.State, session.Id, session.ProvablyAliveFor));

        _time.Advance(TimeSpan.FromSeconds(5)); // 4 s left of 9: above a third
        Assert.Equal(SessionState.Connected, session.State);
        _time.Advance(TimeSpan.FromSeconds(1.5)); // 2.5 s left: no keepalive confirmed for two thirds of the TTL
        Assert.Equal(SessionState.Suspended, session.State);
        Assert.Equal(TimeSpan.FromSeconds(2.5), session.ProvablyAliveFor);

        lease.Deadline = _time.GetUtcNow() + Ttl; // a keepalive answer arrives
        Assert.Equal(SessionState.Connected, session.State);
    }

    [Fact]
    public async Task A_lost_lease_ends_the_session_for_good()
    {
        var session = new EtcdStoreSession(Ttl, _time);
        var lease = new EtcdLease(7, 9, _time.GetUtcNow() + Ttl, _time.GetUtcNow);
        session.Establish(lease);

        lease.MarkLost("test");

        await session.Ended.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((SessionState.Lost, TimeSpan.Zero), (session.State, session.ProvablyAliveFor));
        Assert.Null(session.Close()); // nothing to revoke, and closing does not turn Lost into Closed
        Assert.Equal(SessionState.Lost, session.State);
    }

    [Fact]
    public async Task A_session_closed_before_its_grant_refuses_the_lease_and_fails_its_waiters()
    {
        var session = new EtcdStoreSession(Ttl, _time);
        var waiting = session.Established;

        Assert.Null(session.Close());

        Assert.Equal(SessionState.Closed, session.State);
        await Assert.ThrowsAsync<SessionLostException>(() => waiting);
        Assert.False(session.Establish(new EtcdLease(7, 9, _time.GetUtcNow() + Ttl, _time.GetUtcNow)));
        Assert.Equal(0, session.Id);
    }

    [Fact]
    public async Task Watching_the_state_reports_each_change_then_ends_with_the_session()
    {
        var session = new EtcdStoreSession(Ttl, _time);
        var lease = new EtcdLease(7, 9, _time.GetUtcNow() + Ttl, _time.GetUtcNow);
        var seen = new List<SessionState>();
        var watching = Task.Run(async () =>
        {
            await foreach (var state in session.WatchStateAsync())
            {
                lock (seen)
                {
                    seen.Add(state);
                }
            }
        });
        await Eventually.UntilAsync(() => { lock (seen) { return seen.Count == 1; } }, TimeSpan.FromSeconds(10));

        session.Establish(lease);
        await Eventually.UntilAsync(() => { lock (seen) { return seen.Count == 2; } }, TimeSpan.FromSeconds(10));
        // The poll runs on the session's clock: advance it until the suspension is noticed.
        await Eventually.UntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); lock (seen) { return seen.Count == 3; } },
            TimeSpan.FromSeconds(10));
        lease.MarkLost("test");
        await watching.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([SessionState.Connecting, SessionState.Connected, SessionState.Suspended, SessionState.Lost], seen);
    }
}
