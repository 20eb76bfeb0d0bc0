namespace ControlPlane.Director.Hosting;

/// <summary>What a director does to spread leadership: requeue its candidacy in <see cref="Cell"/> (resign and
/// campaign again at the back of that cell's queue).</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Reason">Why, for the log.</param>
internal sealed record SpreadMove(string Cell, string Reason);

/// <summary>
/// Leadership spreading across cells (docs/cells.md): a pure decision over the cells' candidate queues, unit-tested.
/// With <c>d</c> directors and <c>c</c> cells a fair share is <c>⌈c/d⌉</c>. A director leading more than its share
/// hands one cell to its next candidate when that director leads less than a share; a director at or above its share
/// that stands next in line behind an over-share leader steps to the back, so that one with less than a share comes
/// forward. Either way at most one move per call, and only ever towards a director below its share, so leadership
/// settles and never flaps.
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
        if (mine > share)
        {
            foreach (var cell in cells)
            {
                var queue = queues[cell];
                if (queue.Count > 1 && queue[0] == me && queue[1] != me && leads.GetValueOrDefault(queue[1]) < share)
                {
                    return new SpreadMove(cell, $"leads {mine} of {queues.Count} cells, above its share of {share} among {directors} directors; {queue[1]} leads {leads.GetValueOrDefault(queue[1])}");
                }
            }
        }

        if (mine >= share)
        {
            foreach (var cell in cells)
            {
                var queue = queues[cell];
                if (queue.Count > 2 && queue[1] == me && leads.GetValueOrDefault(queue[0]) > share && queue.Skip(2).Any(d => leads.GetValueOrDefault(d) < share))
                {
                    return new SpreadMove(cell, $"next in line behind {queue[0]}, which leads {leads[queue[0]]} cells (share {share}), while this director leads {mine}: stepping back");
                }
            }
        }

        return null;
    }
}
