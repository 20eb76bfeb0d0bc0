using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

public abstract partial class CoordinationConformanceTests
{
    [Fact]
    public async Task Candidates_lead_in_creation_order_with_rising_epochs_and_resign_hands_over()
    {
        var elections = new List<LeaderElection>();
        for (var i = 0; i < 3; i++)
        {
            var election = Own(new LeaderElection(await ConnectAsync(), ElectionOptions($"d{i}")));
            election.Start();
            await Eventually.UntilAsync(() => election.Current.CandidateKey is not null, Deadline, () => election.Current.ToString());
            elections.Add(election);
        }

        var epochs = new List<long>();
        foreach (var expected in elections)
        {
            var lead = await Eventually.WithinAsync(expected.WaitForLeadershipAsync(), Deadline, "the next leader");
            Assert.Single(elections, e => e.Current.IsLeader);
            var leader = await LeaderElection.ReadLeaderAsync(await ConnectAsync(), "election");
            Assert.Equal(lead.CandidateKey, leader!.Key);
            Assert.Equal(lead.Epoch, leader.CreateRevision);
            epochs.Add(lead.Epoch);
            await expected.ResignAsync();
        }

        Assert.Equal(epochs.Order(), epochs);
        Assert.Equal(3, epochs.Distinct().Count());
    }

    [Fact]
    public async Task A_black_holed_leader_stops_before_its_successor_starts_and_its_fenced_writes_fail()
    {
        await using var proxy = TcpProxy.Start(Shared.Addresses[0]);
        var oldStore = await ConnectAsync(addresses: [proxy.Address]);
        var old = Own(new LeaderElection(oldStore, ElectionOptions("old")));
        old.Start();
        var oldLead = await Eventually.WithinAsync(old.WaitForLeadershipAsync(), Deadline, "the first leadership");
        await CommitOkAsync(oldStore, new Transaction().Create("fenced", Utf8("0")));
        var successor = Own(new LeaderElection(await ConnectAsync(), ElectionOptions("successor")));
        successor.Start();
        await Eventually.UntilAsync(() => successor.Current.CandidateKey is not null, Deadline);

        var budget = Budget(oldStore);
        var cut = Stopwatch.StartNew();
        proxy.Pause();

        var newLead = await Eventually.WithinAsync(successor.WaitForLeadershipAsync(), budget.WorstCaseFailover + Slack, "the successor's leadership");
        var failover = cut.Elapsed;
        Assert.True(newLead.Epoch > oldLead.Epoch);
        // Safety, not speed: the old leader stood down on its own, before the successor took over.
        Assert.False(old.Current.IsLeader, old.Current.ToString());
        Assert.True(old.Current.Since <= newLead.Since, $"old leader stepped down at {old.Current.Since:O}, successor led at {newLead.Since:O}");
        var refused = await Record.ExceptionAsync(() => old.FencedCommitAsync(new Transaction().Update("fenced", Utf8("old"))));
        Assert.True(refused is LeadershipLostException or StoreException, $"expected the fenced write to fail, got {refused?.GetType().Name ?? "success"}");

        proxy.Resume();
        // Back in contact, the deposed leader's epoch stays fenced off: its key is gone for good.
        Assert.True((await successor.FencedCommitAsync(new Transaction().Update("fenced", Utf8("new")))).Succeeded);
        Assert.Equal("new", Text((await (await ConnectAsync()).GetAsync("fenced"))!));
        Console.WriteLine($"{Shared.Backend}: black-holed leader replaced after {failover.TotalMilliseconds:0} ms (budget {budget.WorstCaseFailover.TotalMilliseconds:0} ms)");
    }

    [Fact]
    public async Task A_fenced_write_through_a_second_store_lands_while_leading_and_is_refused_once_the_leader_is_deposed()
    {
        // The director's layout: the candidacy on one session, the scheduler's reads and writes on another.
        var candidacy = await ConnectAsync();
        var through = await ConnectAsync();
        Assert.NotEqual(candidacy.Session.Id, through.Session.Id);
        var leader = Own(new LeaderElection(candidacy, ElectionOptions("leader")));
        leader.Start();
        var lead = await Eventually.WithinAsync(leader.WaitForLeadershipAsync(), Deadline, "the leadership");

        var written = await leader.FencedCommitAsync(new Transaction().Create("fenced", Utf8("leader")), through);
        Assert.True(written.Succeeded);
        // Read-your-writes on the store that carried the write, without a sync.
        Assert.Equal("leader", Text((await through.GetAsync("fenced"))!));

        var successorStore = await ConnectAsync();
        var successor = Own(new LeaderElection(successorStore, ElectionOptions("successor")));
        successor.Start();
        await Eventually.UntilAsync(() => successor.Current.CandidateKey is not null, Deadline);

        // Deposed from outside (an operator, or an expiry the leader has not heard of yet): whichever of the
        // election's own notice and the store's fence comes first, the write must not land.
        await CommitOkAsync(successorStore, new Transaction().Delete(lead.CandidateKey!));
        var refused = await Record.ExceptionAsync(() => leader.FencedCommitAsync(new Transaction().Update("fenced", Utf8("deposed")), through));
        Assert.IsType<LeadershipLostException>(refused);
        Assert.False(leader.Current.IsLeader && leader.Current.Epoch == lead.Epoch, leader.Current.ToString());

        var newLead = await Eventually.WithinAsync(successor.WaitForLeadershipAsync(), Deadline, "the successor's leadership");
        Assert.True(newLead.Epoch > lead.Epoch);
        var successorThrough = await ConnectAsync();
        Assert.True((await successor.FencedCommitAsync(new Transaction().Update("fenced", Utf8("successor")), successorThrough)).Succeeded);
        Assert.Equal("successor", Text((await successorThrough.GetAsync("fenced"))!));
    }

    [Fact]
    public async Task A_crashed_leader_is_replaced_within_the_failover_budget()
    {
        await using var proxy = TcpProxy.Start(Shared.Addresses[0]);
        var crashing = await ConnectAsync(addresses: [proxy.Address]);
        var old = Own(new LeaderElection(crashing, ElectionOptions("crashing")));
        old.Start();
        var oldLead = await Eventually.WithinAsync(old.WaitForLeadershipAsync(), Deadline, "the first leadership");
        var successor = Own(new LeaderElection(await ConnectAsync(), ElectionOptions("successor")));
        successor.Start();
        await Eventually.UntilAsync(() => successor.Current.CandidateKey is not null, Deadline);

        // A crash, as the store sees it: the connection dies and nothing ever reconnects.
        var budget = Budget(crashing);
        proxy.RejectNew = true;
        proxy.CutAll();

        var newLead = await Eventually.WithinAsync(successor.WaitForLeadershipAsync(), budget.WorstCaseFailover + Slack, "the successor's leadership");
        Assert.True(newLead.Epoch > oldLead.Epoch);
        Assert.False(old.Current.IsLeader);
    }

    [Fact]
    public async Task Churning_candidates_never_get_writes_accepted_out_of_epoch_order()
    {
        // 20 candidates for a bounded time; some reach the store through proxies that get cut or paused.
        // Every leader keeps writing fenced log entries; the store's order of accepted entries must show
        // epochs that never go down: no deposed leader's write lands after its successor's.
        const int candidates = 20;
        var duration = TimeSpan.FromSeconds(20);
        var proxies = Enumerable.Range(0, 4).Select(_ => TcpProxy.Start(Shared.Addresses[0])).ToList();
        foreach (var proxy in proxies)
        {
            Own(proxy);
        }

        var accepted = new ConcurrentBag<(long Epoch, long Revision)>();
        var epochsSeen = new ConcurrentDictionary<long, byte>();
        using var stop = new CancellationTokenSource(duration);
        var workers = Enumerable.Range(0, candidates).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            var proxy = i < proxies.Count ? proxies[i] : null;
            while (!stop.IsCancellationRequested)
            {
                ICoordinationStore store;
                try
                {
                    store = await Shared.ConnectAsync(Root, proxy is null ? null : [proxy.Address]);
                }
                catch (StoreException)
                {
                    continue; // behind a paused proxy: try again
                }

                var election = new LeaderElection(store, ElectionOptions($"c{i}"));
                election.Start();
                var until = Stopwatch.StartNew();
                var lifetime = TimeSpan.FromMilliseconds(random.Next(500, 4000));
                var n = 0;
                while (until.Elapsed < lifetime && !stop.IsCancellationRequested)
                {
                    var lead = election.Current;
                    if (lead.IsLeader)
                    {
                        epochsSeen.TryAdd(lead.Epoch, 0);
                        try
                        {
                            var result = await election.FencedCommitAsync(
                                new Transaction().Create($"log/{lead.Epoch:D20}-{i:D2}-{n++:D6}", Utf8(lead.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                            if (result.Succeeded)
                            {
                                accepted.Add((lead.Epoch, result.Revision));
                            }
                        }
                        catch (StoreException)
                        {
                            // Lost leadership or an unreachable store: the check at the end decides whether that was safe.
                        }
                    }

                    await Task.Delay(random.Next(10, 60));
                }

                await election.DisposeAsync();
                await DisposeQuietlyAsync(store);
            }
        })).ToList();

        var chaos = Task.Run(async () =>
        {
            var random = new Random(99);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(300, 1200));
                var proxy = proxies[random.Next(proxies.Count)];
                if (random.Next(2) == 0)
                {
                    proxy.CutAll();
                }
                else
                {
                    proxy.Pause();
                    await Task.Delay(random.Next(200, (int)(StoreHarness.SessionTimeout.TotalMilliseconds * 1.5)));
                    proxy.Resume();
                }
            }
        });

        await Task.WhenAll(workers.Append(chaos)).WaitAsync(duration + TimeSpan.FromSeconds(60));

        // The observer: read back every accepted write in the store's order.
        var observer = await ConnectAsync();
        var log = new List<StoreItem>();
        string? after = null;
        do
        {
            var page = await observer.ListAsync("log", new ListOptions(1000, after));
            log.AddRange(page.Items);
            after = page.Next;
        }
        while (after is not null);

        Assert.True(accepted.Count > 20, $"only {accepted.Count} writes were accepted: the test did not exercise leadership");
        Assert.True(epochsSeen.Count >= 3, $"only {epochsSeen.Count} epochs: leadership did not move");
        var inStoreOrder = log.OrderBy(i => i.CreateRevision).Select(i => long.Parse(Text(i), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (var k = 1; k < inStoreOrder.Count; k++)
        {
            Assert.True(inStoreOrder[k] >= inStoreOrder[k - 1], $"a write of epoch {inStoreOrder[k]} landed after one of epoch {inStoreOrder[k - 1]}");
        }

        Assert.True(log.Count >= accepted.Count, $"{accepted.Count} writes acknowledged but only {log.Count} in the store");
    }

    [Fact]
    public async Task Elections_carry_on_while_a_three_member_store_loses_a_member()
    {
        await using var harness = await StartHarnessAsync(members: 3);
        var elections = new List<LeaderElection>();
        for (var i = 0; i < 3; i++)
        {
            // Each candidate knows every member, listed from a different one first.
            var addresses = harness.Addresses.Skip(i).Concat(harness.Addresses.Take(i)).ToList();
            var election = Own(new LeaderElection(await ConnectAsync(harness, addresses), ElectionOptions($"m{i}")));
            election.Start();
            await Eventually.UntilAsync(() => election.Current.CandidateKey is not null, Deadline);
            elections.Add(election);
        }

        var first = await Eventually.WithinAsync(elections[0].WaitForLeadershipAsync(), Deadline, "the first leadership");

        // A member dies (possibly the store's own leader, so the store elects again meanwhile): clients fail over
        // to the others, a resign still reaches the store, and leadership moves on with rising epochs. A session
        // may expire while the store elects; its candidate then queues again, so who leads next is not fixed.
        await harness.Servers.KillAsync(2);
        await elections[0].ResignAsync();
        var (secondElection, second) = await NextLeaderAsync(elections.Skip(1));
        Assert.True(second.Epoch > first.Epoch);
        await secondElection.ResignAsync();

        var (thirdElection, third) = await NextLeaderAsync(elections.Skip(1).Where(e => e != secondElection));
        Assert.True(third.Epoch > second.Epoch);
        Assert.True((await thirdElection.FencedCommitAsync(new Transaction().Create("after-loss", Utf8("ok")))).Succeeded);
        await harness.Servers.StartMemberAsync(2);
    }

    /// <summary>Extra time on top of a failover budget for a loaded 2-core machine; the failover benchmark
    /// reports the real figures.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    private static async Task<(LeaderElection Election, Leadership Leadership)> NextLeaderAsync(IEnumerable<LeaderElection> candidates)
    {
        var list = candidates.ToList();
        await Eventually.UntilAsync(() => list.Any(e => e.Current.IsLeader), Deadline * 2,
            () => string.Join("; ", list.Select(e => e.Current.ToString())));
        var leader = list.Single(e => e.Current.IsLeader);
        return (leader, leader.Current);
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync();
        }
        catch (StoreException)
        {
            // Cut off: the store expires the session by itself.
        }
    }

    private static LeaderElectionOptions ElectionOptions(string name) => new()
    {
        ElectionKey = "election",
        CandidateValue = Utf8($$"""{"name":"{{name}}"}"""),
        RetryDelay = TimeSpan.FromMilliseconds(100),
    };

    private static FailoverBudget Budget(ICoordinationStore store) => FailoverBudget.Evaluate(new FailoverTimings(
        store.Backend, StoreHarness.SessionTimeout, store.Session.Timeout, store.Session.Timeout / 3,
        new LeaderElectionOptions().EffectiveMargin(store.Session.Timeout), TimeSpan.FromMilliseconds(100)));
}
