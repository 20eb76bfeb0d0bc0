using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Membership;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

public abstract partial class CoordinationConformanceTests
{
    [Fact]
    public async Task A_cache_never_misses_or_reorders_an_update_across_reconnects_and_compaction()
    {
        await using var proxy = TcpProxy.Start(Shared.Addresses[0]);
        var writer = await ConnectAsync();
        var reader = await ConnectAsync(addresses: [proxy.Address]);
        var cache = Own(new WatchCache(reader, "q"));
        await cache.StartAsync().WaitAsync(Deadline);

        var revisions = new List<long>();
        using var stop = new CancellationTokenSource();
        var recorder = Task.Run(async () =>
        {
            await foreach (var update in cache.WatchAppliedAsync(stop.Token))
            {
                if (update is not null)
                {
                    revisions.Add(update.Revision);
                }
            }
        });

        CommitResult last = null!;
        for (var i = 0; i < 60; i++)
        {
            var tx = new Transaction().Create($"q/{i:D3}", Utf8("new"));
            if (i >= 2)
            {
                tx.Update($"q/{i - 2:D3}", Utf8("updated"));
            }

            if (i >= 5 && i % 5 == 0)
            {
                tx.Delete($"q/{i - 5:D3}");
            }

            last = await CommitOkAsync(writer, tx);
            if (i == 20)
            {
                proxy.CutAll(); // the reader reconnects (ZooKeeper: same session; etcd: the watch stream resumes)
            }

            if (i == 40)
            {
                // Cut the reader off, move on without it, and compact away the history it missed.
                proxy.Pause();
                await CommitOkAsync(writer, new Transaction().Create("q/while-away", Utf8("x")).Delete("q/001"));
                var compactAt = await CommitOkAsync(writer, new Transaction().Update("q/while-away", Utf8("y")));
                await Shared.CompactAsync(compactAt.Revision);
                proxy.Resume();
            }
        }

        await cache.WaitForRevisionAsync(last.Revision).WaitAsync(Deadline * 2);

        var truth = await SubtreeAsync(writer, "q");
        Assert.Equal(truth.Select(i => (i.Key, Text(i), i.Version)), cache.Items.Values.Select(i => (i.Key, Text(i), i.Version)));
        await stop.CancelAsync();
        await recorder.ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.Equal(revisions.Order(), revisions);
    }

    [Fact]
    public async Task A_member_cut_off_past_its_session_timeout_registers_again_on_a_new_session()
    {
        await using var proxy = TcpProxy.Start(Shared.Addresses[0]);
        var agentStore = await ConnectAsync(addresses: [proxy.Address]);
        var registration = Own(new MemberRegistration(agentStore, "workers", "agent-1", Utf8("""{"slots":2}""")));
        await registration.StartAsync().WaitAsync(Deadline);
        var observer = await ConnectAsync();
        var members = Own(new WatchCache(observer, "workers"));
        await members.StartAsync().WaitAsync(Deadline);
        var firstOwner = members.Items["workers/agent-1"].Owner;

        proxy.Pause();
        await Eventually.UntilAsync(() => !members.Items.ContainsKey("workers/agent-1"), StoreHarness.SessionTimeout + Deadline,
            () => "the member is still listed");
        proxy.Resume();

        await Eventually.UntilAsync(() => members.Items.TryGetValue("workers/agent-1", out var item) && item.Owner != firstOwner,
            Deadline * 2, () => $"members: {string.Join(", ", members.Items.Keys)}");
        // The observer may see the new key a moment before the registration has published its own success.
        await Eventually.UntilAsync(() => registration.Registered, Deadline);
        await registration.UpdateAsync(Utf8("""{"slots":3}"""));
        await Eventually.UntilAsync(
            () => members.Items.TryGetValue("workers/agent-1", out var item) && Text(item) == """{"slots":3}""",
            Deadline,
            () => $"cache at {members.Revision} holds {(members.Items.TryGetValue("workers/agent-1", out var item) ? $"{Text(item)} (owner {item.Owner:x}, mod {item.ModRevision})" : "no member")}; " +
                  $"registered: {registration.Registered}, session {agentStore.Session.Id:x} {agentStore.Session.State}");
    }

    private static async Task<List<StoreItem>> SubtreeAsync(ICoordinationStore store, string parent)
    {
        var all = new List<StoreItem>();
        string? after = null;
        do
        {
            var page = await store.ListAsync(parent, new ListOptions(1000, after));
            all.AddRange(page.Items);
            after = page.Next;
        }
        while (after is not null);

        return all;
    }
}
