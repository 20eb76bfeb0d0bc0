using System.Text;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// The store contract of docs/coordination.md, run against real servers: one subclass per backend, so
/// ZooKeeper and etcd are held to exactly the same answers. Recipes are covered in the partial files
/// beside this one (election, failover, caches, membership).
/// </summary>
public abstract partial class CoordinationConformanceTests(StoreHarness shared) : IAsyncLifetime
{
    /// <summary>Deadline for things that happen at once unless broken.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>The single-member servers shared by the tests of one backend.</summary>
    protected StoreHarness Shared { get; } = shared;

    /// <summary>A key root unique to the running test.</summary>
    protected string Root { get; } = "t/" + TestNames.Unique("conformance");

    /// <summary>Starts dedicated servers for a test that kills or partitions them.</summary>
    protected abstract Task<StoreHarness> StartHarnessAsync(int members);

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception ex) when (ex is StoreException or ObjectDisposedException or OperationCanceledException)
            {
                // A test that cut a store off leaves it unable to close politely.
            }
        }
    }

    [Fact]
    public async Task Transactions_normalise_versions_and_fail_alike_on_both_stores()
    {
        var store = await ConnectAsync();

        var created = await store.CommitAsync(new Transaction().Create("a/x", Utf8("v1")));
        Assert.True(created.Succeeded);
        var item = Assert.IsType<StoreItem>(Assert.Single(created.Items));
        Assert.Equal(1, item.Version);
        Assert.Equal(created.Revision, item.CreateRevision);
        Assert.Equal(item.CreateRevision, item.ModRevision);
        Assert.False(item.IsEphemeral);

        await AssertFailsAtAsync(store, new Transaction().Create("a/x", Utf8("again")), 0);
        var updated = await store.CommitAsync(new Transaction().Update("a/x", Utf8("v2"), expectedVersion: 1));
        Assert.True(updated.Succeeded);
        Assert.Equal(2, updated.Items[0]!.Version);
        Assert.Equal(created.Revision, updated.Items[0]!.CreateRevision);
        Assert.True(updated.Revision > created.Revision);

        await AssertFailsAtAsync(store, new Transaction().Update("a/x", Utf8("v3"), expectedVersion: 1), 0);
        await AssertFailsAtAsync(store, new Transaction().Update("a/missing", Utf8("v")), 0);
        await AssertFailsAtAsync(store, new Transaction().Delete("a/missing"), 0);
        await AssertFailsAtAsync(store, new Transaction().Delete("a/x", expectedVersion: 1), 0);
        await AssertFailsAtAsync(store, new Transaction().RequireAbsent("a/x").Create("a/y", Utf8("y")), 0);
        await AssertFailsAtAsync(store, new Transaction().RequireExists("a/x").RequireVersion("a/x", 99), 1);
        await AssertFailsAtAsync(store, new Transaction().RequireCreatedAt("a/missing", created.Revision), 0);

        // All or nothing: the first create must not survive the failure of the second operation.
        await AssertFailsAtAsync(store, new Transaction().Create("a/z", Utf8("z")).Create("a/x", Utf8("x")), 1);
        Assert.Null(await store.GetAsync("a/z"));
        Assert.Null(await store.GetAsync("a/y"));

        var combined = await store.CommitAsync(new Transaction()
            .RequireExists("a/x").RequireVersion("a/x", 2).RequireCreatedAt("a/x", created.Revision).RequireAbsent("a/y")
            .Create("a/y", Utf8("y")).Update("a/x", Utf8("v3")).Create("a/deep/er/key", Utf8("d")));
        Assert.True(combined.Succeeded);
        Assert.Equal(3, (await store.GetAsync("a/x"))!.Version);
        // A commit's items are what a read returns: the leader applies them to its state without reading back.
        foreach (var (key, index) in new[] { ("a/y", 0), ("a/x", 1), ("a/deep/er/key", 2) })
        {
            var read = (await store.GetAsync(key))!;
            var written = combined.Items[index]!;
            Assert.Equal((read.CreateRevision, read.ModRevision, read.Version), (written.CreateRevision, written.ModRevision, written.Version));
        }

        Assert.Equal("d", Text((await store.GetAsync("a/deep/er/key"))!));

        var deleted = await store.CommitAsync(new Transaction().Delete("a/y", expectedVersion: 1));
        Assert.True(deleted.Succeeded);
        Assert.Null(Assert.Single(deleted.Items));
        Assert.Null(await store.GetAsync("a/y"));
    }

    [Fact]
    public async Task Ephemeral_keys_vanish_with_their_session_and_persistent_keys_stay()
    {
        var observer = await ConnectAsync();
        var owner = await Shared.ConnectAsync(Root);

        var result = await owner.CommitAsync(new Transaction().Create("m/eph", Utf8("e"), ephemeral: true).Create("m/per", Utf8("p")));
        Assert.True(result.Succeeded);
        var ephemeral = await observer.GetAsync("m/eph");
        Assert.NotNull(ephemeral);
        Assert.Equal(owner.Session.Id, ephemeral.Owner);
        Assert.Equal(SessionState.Connected, owner.Session.State);

        await owner.DisposeAsync();

        await Eventually.UntilAsync(async () => await observer.GetAsync("m/eph") is null, Deadline);
        Assert.NotNull(await observer.GetAsync("m/per"));
    }

    [Fact]
    public async Task List_pages_through_direct_children_in_name_order()
    {
        var store = await ConnectAsync();
        var tx = new Transaction();
        foreach (var name in new[] { "c", "a", "e", "b", "d" })
        {
            tx.Create($"dir/{name}", Utf8(name));
        }

        tx.Create("dir/a/child", Utf8("deeper")).Create("dirx", Utf8("sibling"));
        await CommitOkAsync(store, tx);

        var names = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await store.ListAsync("dir", new ListOptions(2, after));
            Assert.True(page.Items.Count <= 2);
            names.AddRange(page.Items.Select(i => i.Key));
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 10);

        Assert.Equal(["dir/a", "dir/b", "dir/c", "dir/d", "dir/e"], names);
        Assert.Empty((await store.ListAsync("nothing-here")).Items);
    }

    [Fact]
    public async Task A_watch_of_the_empty_prefix_follows_every_key_under_the_root_with_keys_relative_to_it()
    {
        var writer = await ConnectAsync();
        var watcher = await ConnectAsync();
        await CommitOkAsync(writer, new Transaction().Create("top/before", Utf8("0")));

        using var stop = new CancellationTokenSource(Deadline * 2);
        await using var updates = watcher.WatchAsync("", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        var resync = Assert.IsType<WatchResync>(updates.Current);
        Assert.Contains(resync.Items, i => i.Key == "top/before");

        await CommitOkAsync(writer, new Transaction().Create("other/x", Utf8("1")).Create("third", Utf8("2")));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (!(seen.Contains("other/x") && seen.Contains("third")) && await updates.MoveNextAsync())
        {
            foreach (var change in Assert.IsType<WatchChanges>(updates.Current).Changes)
            {
                Assert.False(change.Key.StartsWith('/'), $"key {change.Key} is not relative to the root");
                seen.Add(change.Key);
            }
        }

        Assert.Contains("other/x", seen);
        Assert.Contains("third", seen);
    }

    [Fact]
    public async Task Watch_starts_with_a_resync_and_reports_every_later_change_in_order()
    {
        var writer = await ConnectAsync();
        var watcher = await ConnectAsync();
        await CommitOkAsync(writer, new Transaction().Create("w/before", Utf8("0")));

        using var stop = new CancellationTokenSource(Deadline * 2);
        await using var updates = watcher.WatchAsync("w", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        var resync = Assert.IsType<WatchResync>(updates.Current);
        Assert.Equal("w/before", Assert.Single(resync.Items).Key);

        await CommitOkAsync(writer, new Transaction().Create("w/a", Utf8("1")));
        await CommitOkAsync(writer, new Transaction().Update("w/a", Utf8("2")));
        await CommitOkAsync(writer, new Transaction().Create("w/b/deep", Utf8("3")));
        await CommitOkAsync(writer, new Transaction().Create("outside", Utf8("x")));
        await CommitOkAsync(writer, new Transaction().Delete("w/a"));

        // Apply what arrives until the state matches the store. etcd reports every change; ZooKeeper reads each
        // notified node, so it may skip an intermediate value but never reports a key's versions out of order.
        var state = resync.Items.ToDictionary(i => i.Key, Text);
        var reported = new List<string>();
        var lastMod = new Dictionary<string, long>();
        var revision = resync.Revision;
        var expected = new Dictionary<string, string> { ["w/before"] = "0", ["w/b/deep"] = "3" };
        while (!(state.Count == expected.Count && expected.All(e => state.GetValueOrDefault(e.Key) == e.Value)) && await updates.MoveNextAsync())
        {
            var changes = Assert.IsType<WatchChanges>(updates.Current);
            Assert.True(changes.Revision >= revision, $"revision went back from {revision} to {changes.Revision}");
            revision = changes.Revision;
            foreach (var change in changes.Changes)
            {
                reported.Add($"{change.Kind} {change.Key} {(change.Item is null ? "-" : Text(change.Item))}");
                Assert.StartsWith("w/", change.Key, StringComparison.Ordinal);
                if (change.Item is { } item)
                {
                    Assert.True(item.ModRevision > lastMod.GetValueOrDefault(change.Key), $"{change.Key} reported out of order: {string.Join(", ", reported)}");
                    lastMod[change.Key] = item.ModRevision;
                    state[change.Key] = Text(item);
                }
                else
                {
                    state.Remove(change.Key);
                }
            }
        }

        Assert.Equal(expected.OrderBy(e => e.Key), state.OrderBy(e => e.Key));
        if (Shared.Backend == StoreBackend.Etcd)
        {
            Assert.Equal(["Put w/a 1", "Put w/a 2", "Put w/b/deep 3", "Delete w/a -"], reported);
        }
    }

    [Fact]
    public async Task A_reader_on_another_member_synced_to_a_writers_revision_sees_the_write()
    {
        await using var harness = await StartHarnessAsync(members: 3);
        var writer = await ConnectAsync(harness, [harness.Addresses[0]]);
        var reader = await ConnectAsync(harness, [harness.Addresses[1]]);

        for (var i = 0; i < 20; i++)
        {
            var written = await CommitOkAsync(writer, new Transaction().Create($"ryw/{i}", Utf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            var reached = await reader.SyncAsync(written.Revision);
            Assert.True(reached >= written.Revision, $"sync reached {reached} < {written.Revision}");
            Assert.NotNull(await reader.GetAsync($"ryw/{i}"));
            Assert.True(reader.SeenRevision >= written.Revision);
        }
    }

    [Fact]
    public async Task A_watch_fed_cache_gives_read_your_writes_across_two_clients()
    {
        var writer = await ConnectAsync();
        var reader = await ConnectAsync();
        await CommitOkAsync(writer, new Transaction().Create("jobs/0", Utf8("seed")));
        var cache = Own(new WatchCache(reader, "jobs"));
        await cache.StartAsync().WaitAsync(Deadline);
        Assert.Contains("jobs/0", cache.Items.Keys);

        for (var i = 1; i <= 20; i++)
        {
            var written = await CommitOkAsync(writer, new Transaction().Create($"jobs/{i}", Utf8("j")));
            await cache.WaitForRevisionAsync(written.Revision).WaitAsync(Deadline);
            Assert.Contains($"jobs/{i}", cache.Items.Keys);
        }

        // A write outside the prefix: only a progress report can prove the cache has caught up with it.
        var elsewhere = await CommitOkAsync(writer, new Transaction().Create("elsewhere", Utf8("e")));
        await cache.WaitForRevisionAsync(elsewhere.Revision).WaitAsync(Deadline);
        Assert.Equal(21, cache.Items.Count);
    }

    /// <summary>A store rooted at this test's <see cref="Root"/>, disposed after the test.</summary>
    protected async Task<ICoordinationStore> ConnectAsync(StoreHarness? harness = null, IReadOnlyList<string>? addresses = null)
    {
        var store = await (harness ?? Shared).ConnectAsync(Root, addresses);
        return Own(store);
    }

    /// <summary>Registers <paramref name="disposable"/> for disposal after the test.</summary>
    protected T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>Commits and asserts success.</summary>
    protected static async Task<CommitResult> CommitOkAsync(ICoordinationStore store, Transaction transaction)
    {
        var result = await store.CommitAsync(transaction);
        Assert.True(result.Succeeded, $"commit failed at index {result.FailedIndex}");
        return result;
    }

    /// <summary>UTF-8 bytes of a string.</summary>
    protected static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The value as text.</summary>
    protected static string Text(StoreItem item) => Encoding.UTF8.GetString(item.Value.Span);

    private static async Task AssertFailsAtAsync(ICoordinationStore store, Transaction transaction, int index)
    {
        var result = await store.CommitAsync(transaction);
        Assert.False(result.Succeeded, "the commit should have failed");
        Assert.Equal(index, result.FailedIndex);
    }
}
