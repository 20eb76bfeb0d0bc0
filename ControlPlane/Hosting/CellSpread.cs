namespace ControlPlane.Director.Hosting;

/// <summary>What a director does to spread leadership: requeue its candidacy in <see cref="Cell"/> (resign and
/// campaign again at the back of that cell's queue).</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Reason">Why, for the log.</param>
internal sealed record SpreadMove(string Cell, string Reason);

/// <summary>
/// Leadership spreading across cells (docs/cells.md): a pure decision over the cells' candidate queues, unit-tested.
/// With <c>d</c> directors and <c>c</c> cells a fair share is <c>⌈c/d⌉</c>. A director hands one cell it leads to
/// the cell's next candidate when it leads more than its share and that one less than a share, or when it leads at
/// least two more than that one (so 2 + 2 + 0 becomes 2 + 1 + 1: no director idles while another leads two above it).
/// A director that stands next in line behind a leader it could not relieve that way steps to the back when a director
/// further back could, so that one comes forward. Each handover lowers the sum of squares of the cells led, so
/// leadership settles (every director within one cell of every other that stands in the same queues) and never flaps;
/// at most one move per call.
/// </summary>
internal static class CellSpread
{
    /// <summary>The move <paramref name="me"/> should make now, or null.</summary>
    /// <param name="me">This director's id.</param>
    /// <param name="queues">Per cell, its candidates' director ids, oldest (the leader) first; a cell with no candidate
    /// has an empty list.</param>
    /// <param name="directors">How many directors campaign (<c>d</c>); at least 1.</param>
    public static SpreadMove? Choose(string me, IReadOnlyDictionary<string, IReadOnlyList<string>> queues, int directors)
    {
        ArgumentNullException.ThrowIfNull(me);
        ArgumentNullException.ThrowIfNull(queues);
        if (directors < 1 || queues.Count == 0)
        {
            return null;
        }

        var share = (queues.Count + directors - 1) / directors;
        var leads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var queue in queues.Values)
        {
            if (queue.Count > 0)
            {
                leads[queue[0]] = leads.GetValueOrDefault(queue[0]) + 1;
            }
        }

        var mine = leads.GetValueOrDefault(me);
        // Cells in name order: every director judges the same state the same way.
        var cells = queues.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var cell in cells)
        {
            var queue = queues[cell];
            if (queue.Count > 1 && queue[0] == me && queue[1] != me && Relieves(mine, leads.GetValueOrDefault(queue[1]), share))
            {
                return new SpreadMove(cell, $"leads {mine} of {queues.Count} cells (share {share} among {directors} directors); {queue[1]}, next in line, leads {leads.GetValueOrDefault(queue[1])}");
            }
        }

        foreach (var cell in cells)
        {
            var queue = queues[cell];
            if (queue.Count > 2 && queue[1] == me && queue[0] != me)
            {
                var leader = leads.GetValueOrDefault(queue[0]);
                if (!Relieves(leader, mine, share) && queue.Skip(2).Any(d => d != queue[0] && Relieves(leader, leads.GetValueOrDefault(d), share)))
                {
                    return new SpreadMove(cell, $"next in line behind {queue[0]}, which leads {leader} cells (share {share}), while this director leads {mine}: stepping back for one that leads fewer");
                }
            }
        }

        return null;
    }

    /// <summary>Whether a leader of <paramref name="leader"/> cells should hand one to a candidate leading
    /// <paramref name="candidate"/>: it is over the share and the candidate under it, or it leads two or more above the candidate.</summary>
    private static bool Relieves(int leader, int candidate, int share) =>
        (leader > share && candidate < share) || leader - candidate >= 2;
}
