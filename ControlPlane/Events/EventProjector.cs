using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Coordination;

namespace ControlPlane.Director.Events;

/// <summary>
/// Turns store changes of every cell into API events (docs/cells.md): a change under <c>cells/&lt;cell&gt;/</c> goes to
/// that cell's <see cref="CellEventProjector"/> with its key made relative to the cell, any other to the default cell's,
/// so job and worker events carry their cell and read alike in every cell. Leader events stay the default cell's. No
/// I/O; not thread-safe (the hub applies changes from its one watch loop).
/// </summary>
/// <remarks>Per change: one prefix check and, in a named cell, one substring and one dictionary lookup on top of the
/// cell projector's O(1) work. Memory: the cell projectors' state summed, O(workers + candidates + jobs on a worker)
/// across cells, plus one small object per cell seen.</remarks>
internal sealed class EventProjector(JsonSerializerOptions json)
{
    private static readonly string Prefix = Cells.Parent + "/";
    private readonly Dictionary<string, CellEventProjector> _cells = new(StringComparer.Ordinal);

    /// <summary>Replaces every cell's state with what <paramref name="items"/> (a full listing of the root) holds; emits nothing.</summary>
    public void Load(IEnumerable<StoreItem> items)
    {
        _cells.Clear();
        var byCell = new Dictionary<string, List<StoreItem>>(StringComparer.Ordinal) { [Cells.Default] = [] };
        foreach (var item in items)
        {
            if (Split(item.Key) is var (cell, key))
            {
                if (!byCell.TryGetValue(cell, out var list))
                {
                    list = [];
                    byCell[cell] = list;
                }

                list.Add(key == item.Key ? item : item with { Key = key });
            }
        }

        foreach (var (cell, list) in byCell)
        {
            Cell(cell).Load(list);
        }
    }

    /// <summary>Applies <paramref name="change"/> to its cell and appends the events it makes to <paramref name="events"/>.</summary>
    public void Apply(StoreChange change, List<StreamEvent> events)
    {
        if (Split(change.Key) is not var (cell, key))
        {
            return;
        }

        Cell(cell).Apply(key == change.Key ? change : change with { Key = key, Item = change.Item is { } item ? item with { Key = key } : null }, events);
    }

    /// <summary>The cell of a key and the key relative to it; null for a key under <c>cells/</c> that names no valid cell
    /// (which no build writes).</summary>
    internal static (string Cell, string Key)? Split(string key)
    {
        if (!key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return (Cells.Default, key);
        }

        var slash = key.IndexOf('/', Prefix.Length);
        var cell = slash < 0 ? null : key[Prefix.Length..slash];
        return cell is null || cell == Cells.Default || !Cells.IsValid(cell) ? null : (cell, key[(slash + 1)..]);
    }

    private CellEventProjector Cell(string cell)
    {
        if (!_cells.TryGetValue(cell, out var projector))
        {
            projector = new CellEventProjector(json, cell);
            _cells[cell] = projector;
        }

        return projector;
    }
}
