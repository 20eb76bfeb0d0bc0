using CsCheck;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;

namespace ControlPlane.UnitTests.Director;

public sealed class CellSpreadTests
{
    [Fact]
    public void A_director_over_its_share_hands_a_cell_to_a_next_candidate_under_its_share()
    {
        var queues = Queues(("default", ["d1", "d2", "d3"]), ("a", ["d1", "d2", "d3"]), ("b", ["d1", "d2", "d3"]));

        var move = CellSpread.Choose("d1", queues, 3);

        Assert.Equal("a", move?.Cell);
        Assert.Contains("leads 3 of 3 cells (share 1 among 3 directors)", move!.Reason, StringComparison.Ordinal);
        Assert.Null(CellSpread.Choose("d2", queues, 3)); // leads none, stands next everywhere: nothing to do
        Assert.Null(CellSpread.Choose("d3", queues, 3));
    }

    [Fact]
    public void A_next_candidate_at_its_share_steps_back_so_one_under_it_comes_forward()
    {
        // d1 leads two, d2 one, d3 none; d2 stands next behind d1 in b, so d1 alone cannot move.
        var queues = Queues(("default", ["d1", "d2", "d3"]), ("a", ["d2", "d3", "d1"]), ("b", ["d1", "d2", "d3"]));

        Assert.Null(CellSpread.Choose("d1", queues, 3));
        var step = CellSpread.Choose("d2", queues, 3);
        Assert.Equal("b", step?.Cell);
        Assert.Contains("stepping back", step!.Reason, StringComparison.Ordinal);

        // Once d2 has stepped back, d1 hands b to d3, and everyone leads one: settled.
        var after = Queues(("default", ["d1", "d2", "d3"]), ("a", ["d2", "d3", "d1"]), ("b", ["d1", "d3", "d2"]));
        Assert.Equal("b", CellSpread.Choose("d1", after, 3)?.Cell);
        var settled = Queues(("default", ["d1", "d2", "d3"]), ("a", ["d2", "d3", "d1"]), ("b", ["d3", "d2", "d1"]));
        Assert.All(new[] { "d1", "d2", "d3" }, d => Assert.Null(CellSpread.Choose(d, settled, 3)));
    }

    [Fact]
    public void Within_the_share_nothing_moves_so_a_failover_moves_only_the_dead_directors_cells()
    {
        // Two directors left for three cells: a share of 2; 2 and 1 is settled.
        var queues = Queues(("default", ["d1", "d2"]), ("a", ["d2", "d1"]), ("b", ["d1", "d2"]));

        Assert.Null(CellSpread.Choose("d1", queues, 2));
        Assert.Null(CellSpread.Choose("d2", queues, 2));
        Assert.Null(CellSpread.Choose("d1", Queues(("default", ["d1"])), 1));
        Assert.Null(CellSpread.Choose("d1", Queues(("default", [])), 0));
    }

    [Fact]
    public void Two_two_and_none_becomes_two_one_and_one()
    {
        // Four cells, three directors: a share of 2, which 2 + 2 + 0 keeps; d3 would idle while d1 and d2 lead two each.
        var queues = Queues(("default", ["d1", "d3", "d2"]), ("a", ["d1", "d2", "d3"]), ("b", ["d2", "d1", "d3"]), ("c", ["d2", "d1", "d3"]));

        Assert.Equal("default", CellSpread.Choose("d1", queues, 3)?.Cell); // d3 is next there: hand it over
        Assert.Null(CellSpread.Choose("d3", queues, 3));
        // Where d3 stands last, the one ahead of it, a director as busy as the leader, steps back.
        Assert.Equal("b", CellSpread.Choose("d1", Queues(("default", ["d1", "d2", "d3"]), ("a", ["d1", "d2", "d3"]), ("b", ["d2", "d1", "d3"]), ("c", ["d2", "d1", "d3"])), 3)?.Cell);
    }

    [Fact]
    public void Spreading_settles_within_one_cell_of_even_and_never_flaps()
    {
        var gen = Gen.Int[1, 4].SelectMany(d => Gen.Int[1, 9].SelectMany(c => Gen.Int[0, 1000].Array[c * d].Select(seeds => (d, c, seeds))));
        gen.Sample(t =>
        {
            var (d, c, seeds) = t;
            var directors = Enumerable.Range(1, d).Select(i => $"d{i}").ToList();
            // Every director campaigns in every cell, in a random order per cell.
            var queues = Enumerable.Range(0, c).ToDictionary(
                i => i == 0 ? "default" : $"c{i}",
                i => directors.OrderBy(x => seeds[(i * d) + directors.IndexOf(x)]).ThenBy(x => x, StringComparer.Ordinal).ToList(),
                StringComparer.Ordinal);
            var moves = 0;
            for (var moved = true; moved;)
            {
                moved = false;
                foreach (var me in directors)
                {
                    if (CellSpread.Choose(me, queues.ToDictionary(q => q.Key, q => (IReadOnlyList<string>)q.Value, StringComparer.Ordinal), d) is { } move)
                    {
                        // Requeue: resign and campaign again at the back.
                        queues[move.Cell].Remove(me);
                        queues[move.Cell].Add(me);
                        moved = true;
                        Assert.True(++moves <= 4 * c * d, $"still moving after {moves} moves");
                    }
                }
            }

            var leads = directors.Select(x => queues.Values.Count(q => q[0] == x)).ToList();
            Assert.True(leads.Max() - leads.Min() <= 1, $"settled at {string.Join("+", leads)} for {c} cells and {d} directors");
        });
    }

    [Fact]
    public void Merged_cell_pages_end_where_the_first_cut_short_cell_ended()
    {
        var (items, next) = CellReads.Merge<string>(
            [("default", ["a1", "c1"], null), ("x", ["a2", "b2"], "b2"), ("y", ["a3"], null)], limit: 10, keyOf: s => s);

        Assert.Equal(["a1", "a2", "a3", "b2"], items.Select(i => i.Item));
        Assert.Equal("b2", next);
        var (first, resume) = CellReads.Merge<string>([("default", ["a", "c"], null), ("x", ["b", "d"], null)], limit: 3, keyOf: s => s);
        Assert.Equal(new[] { ("default", "a"), ("x", "b"), ("default", "c") }, first);
        Assert.Equal("c", resume);
        Assert.Null(CellReads.Merge<string>([("default", ["a"], null)], 3, s => s).Next);
    }

    private static Dictionary<string, IReadOnlyList<string>> Queues(params (string Cell, string[] Queue)[] cells) =>
        cells.ToDictionary(c => c.Cell, c => (IReadOnlyList<string>)c.Queue, StringComparer.Ordinal);
}
