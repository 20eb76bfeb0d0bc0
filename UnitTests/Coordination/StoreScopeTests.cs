using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Coordination;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Coordination;

public sealed class StoreScopeTests
{
    [Fact]
    public void Keys_are_prefixed_going_down_and_stripped_coming_back()
    {
        var scope = new StoreScope("cells/a");

        Assert.Equal("cells/a/workers/w1", scope.ToStore("workers/w1"));
        Assert.Equal("cells/a", scope.ToStorePrefix(""));
        Assert.Equal("cells/a/jobs", scope.ToStorePrefix("jobs"));
        Assert.Equal("workers/w1", scope.FromStore("cells/a/workers/w1"));
        Assert.True(scope.Contains("cells/a/x"));
        Assert.False(scope.Contains("cells/a"));
        Assert.False(scope.Contains("cells/ab/x"));
        Assert.False(scope.Contains("cells/b/x"));
        Assert.False(scope.Contains("workers/w1"));
        Assert.Equal("cells/a/", scope.ToString());
    }

    [Theory]
    [InlineData("", "1 to 512 characters")]
    [InlineData("/workers", "empty, '.' or '..' segment")]
    [InlineData("workers/", "empty, '.' or '..' segment")]
    [InlineData("../cells/b/jobs", "empty, '.' or '..' segment")]
    [InlineData("jobs/a b", "has ' ' at 6")]
    public void A_bad_key_is_refused_with_what_is_wrong(string key, string expected)
    {
        var scope = new StoreScope("cells/a");

        var error = Assert.Throws<ArgumentException>(() => scope.ToStore(key));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public void A_key_too_long_once_prefixed_says_how_long_a_key_may_be_under_the_scope()
    {
        var scope = new StoreScope("cells/a");
        var key = new string('k', StoreKeys.MaxLength - 3);

        var error = Assert.Throws<ArgumentException>(() => scope.ToStore(key));
        Assert.Contains($"under the scope 'cells/a' a key has at most {StoreKeys.MaxLength - 8}", error.Message, StringComparison.Ordinal);
        Assert.Equal($"cells/a/{key[..(StoreKeys.MaxLength - 8)]}", scope.ToStore(key[..(StoreKeys.MaxLength - 8)]));
    }

    [Theory]
    [InlineData("", "1 to 512 characters")]
    [InlineData("cells//a", "empty, '.' or '..' segment")]
    [InlineData("cells/a b", "has ' ' at 7")]
    public void A_bad_prefix_is_refused(string prefix, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new StoreScope(prefix));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_outside_the_scope_is_never_shown()
    {
        var scope = new StoreScope("cells/a");

        var error = Assert.Throws<ArgumentException>(() => scope.FromStore("cells/b/jobs/00/x"));
        Assert.Contains("is not below the scope 'cells/a/'", error.Message, StringComparison.Ordinal);
        var update = scope.FromStore(new WatchResync([Item("cells/a"), Item("cells/a/w/1"), Item("cells/ab/w/2")], 7));
        var resync = Assert.IsType<WatchResync>(update);
        Assert.Equal(["w/1"], resync.Items.Select(i => i.Key));
        Assert.Equal(7, resync.Revision);
        var changes = Assert.IsType<WatchChanges>(scope.FromStore(new WatchChanges(
            [new StoreChange(ChangeKind.Put, "cells/a/w/1", Item("cells/a/w/1"), 8), new StoreChange(ChangeKind.Delete, "cells/a/w/2", null, 9)], 9)));
        Assert.Equal(["w/1", "w/2"], changes.Changes.Select(c => c.Key));
        Assert.Equal("w/1", changes.Changes[0].Item!.Key);
        Assert.Null(changes.Changes[1].Item);
    }

    [Fact]
    public void A_transaction_keeps_its_order_kinds_versions_and_ephemeral_flags_under_the_prefix()
    {
        var scope = new StoreScope("cells/a");
        var value = Encoding.UTF8.GetBytes("{}");
        var mapped = scope.ToStore(new Transaction()
            .RequireCreatedAt("directors/election/c-1", 41).RequireExists("x").RequireAbsent("y").RequireVersion("z", 3)
            .Create("w", value, ephemeral: true).Update("u", value, 2).Delete("d", 5));

        Assert.Equal(
            [(ConditionKind.CreatedAt, "cells/a/directors/election/c-1", 41L), (ConditionKind.Exists, "cells/a/x", 0L),
                (ConditionKind.Absent, "cells/a/y", 0L), (ConditionKind.VersionEquals, "cells/a/z", 3L)],
            mapped.Conditions.Select(c => (c.Kind, c.Key, c.Value)));
        Assert.Equal(
            [(OperationKind.Create, "cells/a/w", (long?)null, true), (OperationKind.Update, "cells/a/u", 2L, false), (OperationKind.Delete, "cells/a/d", 5L, false)],
            mapped.Operations.Select(o => (o.Kind, o.Key, o.ExpectedVersion, o.Ephemeral)));
    }

    [Fact]
    public void A_shared_subtree_passes_through_at_the_root_and_nothing_else_does()
    {
        var scope = new StoreScope("cells/a", ["idempotency"]);

        Assert.Equal("idempotency/ab/abcd", scope.ToStore("idempotency/ab/abcd"));
        Assert.Equal("cells/a/idempotencyx", scope.ToStore("idempotencyx"));
        Assert.Equal("idempotency/ab/abcd", scope.FromStore("idempotency/ab/abcd"));
        Assert.False(scope.Contains("idempotencyx/1"));
        Assert.Contains("one top-level key segment", Assert.Throws<ArgumentException>(() => new StoreScope("cells/a", ["a/b"])).Message, StringComparison.Ordinal);
        Assert.Contains("holds the scope", Assert.Throws<ArgumentException>(() => new StoreScope("cells/a", ["cells"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_view_reads_writes_lists_and_watches_only_below_its_prefix()
    {
        await using var store = new InMemoryStoreServer().Connect();
        var view = store.Scoped("cells/a");
        var value = Encoding.UTF8.GetBytes("{}");
        await store.CommitAsync(new Transaction().Create("workers/root", value).Create("cells/b/workers/other", value));

        var created = await view.CommitAsync(new Transaction().RequireAbsent("workers/w1").Create("workers/w1", value, ephemeral: true));
        Assert.True(created.Succeeded);
        Assert.Equal("workers/w1", created.Items[0]!.Key);
        Assert.NotNull(await store.GetAsync("cells/a/workers/w1"));
        Assert.Null(await view.GetAsync("workers/root"));
        Assert.Equal(["workers/w1"], (await view.ListAsync("workers")).Items.Select(i => i.Key));
        Assert.Equal("workers/w1", (await view.GetAsync("workers/w1"))!.Key);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var updates = view.WatchAsync("", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(["workers/w1"], Assert.IsType<WatchResync>(updates.Current).Items.Select(i => i.Key));

        // The view disposes nothing: the store stays usable.
        await view.DisposeAsync();
        Assert.NotNull(await store.GetAsync("workers/root"));
        Assert.Same(store, store.Scoped(""));
        Assert.Same(store, store.ForCell(Cells.Default));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("eu-west-1")]
    [InlineData("0123456789abcdefghijklmnopqrstuv")]
    public void Valid_cell_names_map_under_cells(string cell)
    {
        Assert.True(Cells.IsValid(cell));
        Assert.Equal($"cells/{cell}", Cells.Prefix(cell));
    }

    [Theory]
    [InlineData("", "got an empty name")]
    [InlineData("0123456789abcdefghijklmnopqrstuvw", "has 33")]
    [InlineData("EU", "has 'E' at 0")]
    [InlineData("a_b", "has '_' at 1")]
    [InlineData("a/b", "has '/' at 1")]
    public void Bad_cell_names_are_refused_with_the_reason(string cell, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Cells.Validate(cell));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal("cell", error.ParamName);
    }

    private static StoreItem Item(string key) => new(key, Encoding.UTF8.GetBytes("{}"), 1, 1, 1, 0);
}
