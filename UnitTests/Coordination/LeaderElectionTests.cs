using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Coordination;

/// <summary>The election recipe against the in-memory store; the same properties run against real
/// ZooKeeper and etcd in the integration conformance suite.</summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly InMemoryStoreServer _server = new();
    private readonly ManualTimeProvider _time = new();
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lone_candidate_leads_with_its_key_create_revision_as_epoch()
    {
        var (store, election) = Candidate();
        election.Start();

        var leadership = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");

        var key = await store.GetAsync(leadership.CandidateKey!);
        Assert.NotNull(key);
        Assert.True(key.IsEphemeral);
        Assert.Equal(key.CreateRevision, leadership.Epoch);
    }

    [Fact]
    public async Task Candidates_lead_one_at_a_time_in_creation_order_with_rising_epochs()
    {
        var elections = new List<LeaderElection>();
        for (var i = 0; i < 3; i++)
        {
            var (_, election) = Candidate();
            election.Start();
            // Register one after another, so creation order is known.
            await Eventually.UntilAsync(() => election.Current.CandidateKey is not null, Deadline);
            elections.Add(election);
        }

        var epochs = new List<long>();
        foreach (var expected in elections)
        {
            var leadership = await Eventually.WithinAsync(expected.WaitForLeadershipAsync(), Deadline, "the next leader");
            Assert.Single(elections, e => e.Current.IsLeader);
            epochs.Add(leadership.Epoch);
            await expected.ResignAsync();
        }

        Assert.Equal(epochs.Order(), epochs);
        Assert.Equal(3, epochs.Distinct().Count());
    }

    [Fact]
    public async Task Session_expiry_ends_leadership_and_the_next_candidate_takes_over_with_a_higher_epoch()
    {
        var (firstStore, first) = Candidate();
        first.Start();
        var firstLead = await Eventually.WithinAsync(first.WaitForLeadershipAsync(), Deadline, "first leadership");
        var (_, second) = Candidate();
        second.Start();
        // Queued before the expiry: otherwise the first candidate may re-register on its new session first and lead again.
        await Eventually.UntilAsync(() => second.Current.CandidateKey is not null, Deadline);

        firstStore.CurrentSession.Expire();

        var secondLead = await Eventually.WithinAsync(second.WaitForLeadershipAsync(), Deadline, "second leadership");
        Assert.True(secondLead.Epoch > firstLead.Epoch);
        await Eventually.UntilAsync(() => !first.Current.IsLeader || first.Current.Epoch > secondLead.Epoch, Deadline,
            () => $"first: {first.Current}");
    }

    [Fact]
    public async Task A_suspended_leader_keeps_leading_inside_the_margin_and_steps_down_before_the_session_can_expire()
    {
        var (store, election) = Candidate(sessionTimeout: TimeSpan.FromSeconds(9));
        election.Start();
        await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");

        store.CurrentSession.Suspend();
        _time.Advance(TimeSpan.FromSeconds(5)); // 4 s left, margin 3 s: still safe
        Assert.True(election.Current.IsLeader, election.Current.ToString());

        _time.Advance(TimeSpan.FromSeconds(1.5)); // 2.5 s left: inside the margin
        await Eventually.UntilAsync(() => !election.Current.IsLeader, Deadline, () => election.Current.ToString());
        Assert.True(store.CurrentSession.ProvablyAliveFor > TimeSpan.Zero, "stepped down only after the store could expire the session");
        await Assert.ThrowsAsync<LeadershipLostException>(() => election.FencedCommitAsync(new Transaction().Create("jobs/x", "{}"u8.ToArray())));
    }

    [Fact]
    public async Task A_leader_whose_session_comes_back_in_time_leads_again_with_the_same_epoch()
    {
        var (store, election) = Candidate(sessionTimeout: TimeSpan.FromSeconds(9));
        election.Start();
        var before = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        store.CurrentSession.Suspend();
        _time.Advance(TimeSpan.FromSeconds(7));
        await Eventually.UntilAsync(() => !election.Current.IsLeader, Deadline, () => election.Current.ToString());

        store.CurrentSession.Reconnect();
        // The election retries after its (manual-clock) delay.
        await Eventually.UntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); return election.Current.IsLeader; }, Deadline,
            () => election.Current.ToString());

        // Nobody else could have led meanwhile: the key never went away.
        Assert.Equal(before.Epoch, election.Current.Epoch);
    }

    [Fact]
    public async Task Fenced_writes_apply_while_leading_and_are_refused_once_the_leader_key_is_gone()
    {
        var (store, election) = Candidate();
        election.Start();
        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        var (other, successor) = Candidate();
        successor.Start();
        await Eventually.UntilAsync(() => successor.Current.CandidateKey is not null, Deadline);

        var ok = await election.FencedCommitAsync(new Transaction().Create("jobs/a", "1"u8.ToArray()));
        Assert.True(ok.Succeeded);

        // An operator (or the store, on an expiry the leader has not heard of yet) removes the leader key: the
        // successor is first now, so whatever the old leader still believes, its writes must not land.
        Assert.True((await other.CommitAsync(new Transaction().Delete(lead.CandidateKey!))).Succeeded);

        await Assert.ThrowsAsync<LeadershipLostException>(
            () => election.FencedCommitAsync(new Transaction().Create("jobs/b", "1"u8.ToArray())));
        Assert.Null(await store.GetAsync("jobs/b"));
        var next = await Eventually.WithinAsync(successor.WaitForLeadershipAsync(), Deadline, "the successor's leadership");
        Assert.True(next.Epoch > lead.Epoch);
    }

    [Fact]
    public async Task Fenced_writes_through_another_store_apply_while_leading_and_are_refused_once_the_leader_key_is_gone()
    {
        var (store, election) = Candidate();
        election.Start();
        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        var through = Connect();
        Assert.NotEqual(store.Session.Id, through.Session.Id);

        var ok = await election.FencedCommitAsync(new Transaction().Create("jobs/a", "1"u8.ToArray()), through);
        Assert.True(ok.Succeeded);
        Assert.True(through.SeenRevision >= ok.Revision, "the store the write went through has seen it");

        var failed = await election.FencedCommitAsync(new Transaction().RequireExists("jobs/missing").Create("jobs/c", "1"u8.ToArray()), through);
        Assert.False(failed.Succeeded);
        Assert.Equal(0, failed.FailedIndex); // the caller's own index, not the fence's
        Assert.True(election.Current.IsLeader);

        Assert.True((await through.CommitAsync(new Transaction().Delete(lead.CandidateKey!))).Succeeded);

        // The write is refused under the old epoch. The candidate campaigns again at once, so by the time of the call
        // it may lead anew: then the write is fenced by the new epoch, which is just as right.
        try
        {
            await election.FencedCommitAsync(new Transaction().Create("jobs/b", "1"u8.ToArray()), through);
            Assert.NotEqual(lead.Epoch, election.Current.Epoch);
        }
        catch (LeadershipLostException)
        {
            Assert.Null(await store.GetAsync("jobs/b"));
        }

        // No longer the leader of that epoch (the candidate may already campaign again under a new key).
        Assert.False(election.Current.IsLeader && election.Current.Epoch == lead.Epoch);
    }

    [Fact]
    public async Task A_write_through_another_store_is_refused_when_the_candidates_own_session_is_inside_the_margin()
    {
        var (store, election) = Candidate(sessionTimeout: TimeSpan.FromSeconds(9));
        election.Start();
        await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        var through = Connect(sessionTimeout: TimeSpan.FromSeconds(9));

        // The candidate's session goes quiet; the other store's session is healthy, but leadership hangs on the first.
        store.CurrentSession.Suspend();
        _time.Advance(TimeSpan.FromSeconds(6.5));
        Assert.Equal(SessionState.Connected, through.Session.State);

        await Assert.ThrowsAsync<LeadershipLostException>(
            () => election.FencedCommitAsync(new Transaction().Create("jobs/x", "{}"u8.ToArray()), through));
        Assert.Null(await through.GetAsync("jobs/x"));
        Assert.False(election.Current.IsLeader);
    }

    [Fact]
    public async Task A_deletion_whose_notification_is_lost_still_moves_leadership_after_a_recheck()
    {
        var (_, leader) = Candidate(sessionTimeout: TimeSpan.FromSeconds(3));
        leader.Start();
        var lead = await Eventually.WithinAsync(leader.WaitForLeadershipAsync(), Deadline, "leadership");
        var (_, follower) = Candidate(sessionTimeout: TimeSpan.FromSeconds(3));
        follower.Start();
        await Eventually.UntilAsync(() => follower.Current.CandidateKey is not null, Deadline);

        // Neither the leader's watch on its own key nor the follower's on its predecessor hears of this.
        _server.DeleteSilently(lead.CandidateKey!);

        // Both re-read once per session timeout (manual clock): the follower finds itself first, and the old
        // leader finds its key gone and never leads with that epoch again.
        await Eventually.UntilAsync(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return follower.Current.IsLeader && !(leader.Current.IsLeader && leader.Current.Epoch == lead.Epoch);
            },
            Deadline,
            () => $"leader: {leader.Current}; follower: {follower.Current}");
        Assert.True(follower.Current.Epoch > lead.Epoch);
    }

    [Fact]
    public async Task A_fenced_write_that_fails_its_own_condition_reports_the_callers_index()
    {
        var (_, election) = Candidate();
        election.Start();
        await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");

        var result = await election.FencedCommitAsync(new Transaction().RequireExists("jobs/missing").Create("jobs/c", "1"u8.ToArray()));

        Assert.False(result.Succeeded);
        Assert.Equal(0, result.FailedIndex);
        Assert.True(election.Current.IsLeader);
    }

    [Fact]
    public async Task A_candidate_whose_create_reply_was_lost_adopts_its_key_instead_of_orphaning_it()
    {
        var (store, election) = Candidate();
        store.LoseNextCommitReply();
        election.Start();

        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");

        var candidates = await store.ListAsync("directors/election");
        Assert.Equal(lead.CandidateKey, Assert.Single(candidates.Items).Key);
    }

    [Fact]
    public async Task ReadLeaderAsync_names_the_oldest_candidate()
    {
        var (store, first) = Candidate(value: """{"id":"d1"}""");
        first.Start();
        await Eventually.WithinAsync(first.WaitForLeadershipAsync(), Deadline, "leadership");
        var (_, second) = Candidate(value: """{"id":"d2"}""");
        second.Start();
        await Eventually.UntilAsync(() => second.Current.CandidateKey is not null, Deadline);

        var leader = await LeaderElection.ReadLeaderAsync(store, "directors/election");

        Assert.Equal("""{"id":"d1"}""", System.Text.Encoding.UTF8.GetString(leader!.Value.Span));
    }

    [Fact]
    public void Start_checks_the_timings_and_publishes_the_failover_budget()
    {
        var (_, election) = Candidate(sessionTimeout: TimeSpan.FromSeconds(6));
        Assert.Null(election.Budget);

        election.Start();

        Assert.NotNull(election.Budget);
        Assert.Empty(election.Budget.Errors);
        Assert.Equal(TimeSpan.FromSeconds(2), election.Budget.Timings.SafetyMargin);
        Assert.True(election.Budget.WorstCaseFailover > TimeSpan.FromSeconds(6), election.Budget.Describe());
    }

    [Fact]
    public void Options_refuse_a_margin_that_does_not_fit_the_session()
    {
        var options = new LeaderElectionOptions { SafetyMargin = TimeSpan.FromSeconds(10) };
        var error = Assert.Throws<ArgumentException>(() => options.Validate(TimeSpan.FromSeconds(6)));
        Assert.Contains("lower the margin or raise the session timeout", error.Message, StringComparison.Ordinal);
    }

    private InMemoryStore Connect(TimeSpan? sessionTimeout = null)
    {
        var store = _server.Connect(sessionTimeout, _time);
        _owned.Add(store);
        return store;
    }

    private (InMemoryStore Store, LeaderElection Election) Candidate(TimeSpan? sessionTimeout = null, string value = "{}")
    {
        var store = _server.Connect(sessionTimeout, _time);
        var election = new LeaderElection(
            store,
            new LeaderElectionOptions { CandidateValue = System.Text.Encoding.UTF8.GetBytes(value), RetryDelay = TimeSpan.FromMilliseconds(100) },
            timeProvider: _time);
        // Disposed in reverse: the store (and its session) first, so a resign never waits on a manual clock.
        _owned.Add(election);
        _owned.Add(store);
        return (store, election);
    }
}
