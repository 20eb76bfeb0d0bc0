using ControlPlane.Director.Api;

namespace ControlPlane.UnitTests.Director;

/// <summary>The merge of one listing page per cell (<see cref="CellReads.Merge{T}"/>): paging through it with its resume
/// key returns every item of every cell exactly once, in key order, whatever the page size.</summary>
public sealed class CellMergeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(50)]
    public void Paging_with_the_resume_key_returns_every_cells_items_once_in_order(int limit)
    {
        var cells = new Dictionary<string, string[]>
        {
            ["default"] = ["a1", "c3", "e5", "g7"],
            ["x"] = ["b2", "c4", "d4", "h8", "i9"],
            ["y"] = [],
        };
        var seen = new List<(string Cell, string Key)>();
        string? after = null;
        for (var round = 0; round < 100; round++)
        {
            // Each cell returns what a store listing would: at most limit keys after the resume key, and how far it read.
            var pages = cells.Select(c =>
            {
                var rest = c.Value.Where(k => after is null || string.CompareOrdinal(k, after) > 0).ToList();
                var page = rest.Take(limit).ToList();
                return (c.Key, (IReadOnlyList<string>)page, rest.Count > limit ? page[^1] : null);
            }).ToList();
            var (items, next) = CellReads.Merge(pages, limit, k => k);
            Assert.InRange(items.Count, 0, limit);
            seen.AddRange(items);
            if (next is null)
            {
                break;
            }

            after = next;
        }

        var expected = cells.SelectMany(c => c.Value.Select(k => (c.Key, k))).OrderBy(i => i.k, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void A_page_ends_at_the_lowest_key_a_cell_was_read_up_to()
    {
        // Cell x was read up to b only: nothing of default's beyond b may be returned, or x's c would be skipped.
        var pages = new List<(string Cell, IReadOnlyList<string> Items, string? Next)>
        {
            ("default", ["a", "d"], null),
            ("x", ["b"], "b"),
        };
        var (items, next) = CellReads.Merge(pages, 10, k => k);
        Assert.Equal(["a", "b"], items.Select(i => i.Item));
        Assert.Equal("b", next);
    }
}
