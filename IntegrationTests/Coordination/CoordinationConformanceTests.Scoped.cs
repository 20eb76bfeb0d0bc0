using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

public abstract partial class CoordinationConformanceTests
{
    [Fact]
    public async Task A_scoped_view_keeps_every_read_write_watch_election_and_ephemeral_key_below_its_prefix()
    {
        var root = await ConnectAsync();
        var owner = await Shared.ConnectAsync(Root);
        var a = owner.Scoped("cells/a");
        var b = (await ConnectAsync()).Scoped("cells/b");
        await CommitOkAsync(root, new Transaction().Create("w/root", Utf8("r")));

        // Create, read, update, delete and a transaction with every kind of condition, through the view.
        var created = await CommitOkAsync(a, new Transaction().RequireAbsent("w/x").Create("w/x", Utf8("1")).Create("w/eph", Utf8("e"), ephemeral: true));
        Assert.Equal(["w/x", "w/eph"], created.Items.Select(i => i!.Key));
        Assert.Equal("1", Text((await root.GetAsync("cells/a/w/x"))!));
        Assert.Null(await a.GetAsync("w/root"));
        Assert.Null(await b.GetAsync("w/x"));
        var x = (await a.GetAsync("w/x"))!;
        Assert.Equal("w/x", x.Key);
        var updated = await CommitOkAsync(a, new Transaction().RequireCreatedAt("w/x", x.CreateRevision).RequireExists("w/eph").Update("w/x", Utf8("2"), x.Version));
        Assert.Equal("w/x", updated.Items[0]!.Key);
        var refused = await a.CommitAsync(new Transaction().RequireVersion("w/x", 1).Delete("w/eph"));
        Assert.False(refused.Succeeded);
        Assert.Equal(0, refused.FailedIndex);
        Assert.Equal(["w/eph", "w/x"], (await a.ListAsync("w")).Items.Select(i => i.Key).Order(StringComparer.Ordinal));
        Assert.Empty((await b.ListAsync("w")).Items);
        Assert.Equal(["root"], (await root.ListAsync("w")).Items.Select(i => i.Key[2..]));

        // A watch of the view's whole tree sees only the view's keys, named as the view names them.
        using var stop = new CancellationTokenSource(Deadline * 2);
        await using var updates = a.WatchAsync("", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(["w/eph", "w/x"], Assert.IsType<WatchResync>(updates.Current).Items.Select(i => i.Key).Order(StringComparer.Ordinal));
        await CommitOkAsync(b, new Transaction().Create("w/other-cell", Utf8("b")));
        await CommitOkAsync(root, new Transaction().Create("w/root2", Utf8("r")));
        await CommitOkAsync(a, new Transaction().Delete("w/x"));
        var seen = new List<string>();
        while (!seen.Contains("Delete w/x") && await updates.MoveNextAsync())
        {
            if (updates.Current is WatchChanges changes)
            {
                seen.AddRange(changes.Changes.Select(c => $"{c.Kind} {c.Key}"));
            }
        }

        Assert.Contains("Delete w/x", seen);
        Assert.DoesNotContain(seen, s => s.Contains("other-cell", StringComparison.Ordinal) || s.Contains("root2", StringComparison.Ordinal));

        // An election in the view: its candidate key and fence live below the prefix.
        var election = Own(new LeaderElection(a, new LeaderElectionOptions { ElectionKey = "directors/election", CandidateValue = Utf8("a") }));
        election.Start();
        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "the view's leadership");
        Assert.StartsWith("directors/election/c-", lead.CandidateKey, StringComparison.Ordinal);
        Assert.Equal(lead.Epoch, (await root.GetAsync("cells/a/" + lead.CandidateKey))!.CreateRevision);
        Assert.Null(await LeaderElection.ReadLeaderAsync(b, "directors/election"));
        // A fenced write through another connection's view of the same cell (as a leader's scheduler writes).
        await election.FencedCommitAsync(new Transaction().Create("w/fenced", Utf8("f")), (await ConnectAsync()).Scoped("cells/a"));
        Assert.NotNull(await root.GetAsync("cells/a/w/fenced"));

        // The view's ephemeral keys go with the session beneath it; deletion waits work through a view.
        var gone = root.Scoped("cells/a").WaitForDeletionAsync("w/eph");
        await election.ResignAsync();
        await owner.DisposeAsync();
        await gone.WaitAsync(Deadline);
        await Eventually.UntilAsync(async () => await root.GetAsync("cells/a/w/eph") is null, Deadline);
        Assert.NotNull(await root.GetAsync("cells/a/w/fenced"));
        Assert.NotNull(await root.GetAsync("w/root"));
    }
}
