namespace ControlPlane.Cli.Rendering;

/// <summary>
/// A plain-text table: a header row and left-aligned columns padded to their widest cell, two spaces
/// apart, no trailing blanks. Plain text keeps it pipeable into <c>grep</c>, <c>awk</c> and <c>column</c>.
/// </summary>
internal sealed class Table
{
    private readonly string[] headers;
    private readonly List<string[]> rows = [];

    /// <summary>Creates a table with these column headers.</summary>
    public Table(params string[] headers) => this.headers = headers;

    /// <summary>Adds a row; missing cells are blank, null cells print as <c>-</c>.</summary>
    public Table Add(params string?[] cells)
    {
        var row = new string[headers.Length];
        for (var i = 0; i < row.Length; i++)
        {
            // '-' rather than blank keeps every column non-empty, so awk's field numbers stay stable.
            row[i] = i < cells.Length && !string.IsNullOrEmpty(cells[i]) ? Clean(cells[i]!) : "-";
        }

        rows.Add(row);
        return this;
    }

    /// <summary>Number of rows added.</summary>
    public int Count => rows.Count;

    /// <summary>Writes the header and every row.</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        WriteRow(writer, headers, widths);
        foreach (var row in rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var line = string.Join("  ", cells.Select((cell, i) => i == cells.Length - 1 ? cell : cell.PadRight(widths[i])));
        writer.WriteLine(line.TrimEnd());
    }

    // A newline or tab inside a cell would break the alignment of every row after it.
    private static string Clean(string cell) => cell.Contains('\n', StringComparison.Ordinal) || cell.Contains('\t', StringComparison.Ordinal) || cell.Contains('\r', StringComparison.Ordinal)
        ? cell.Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ').Replace('\t', ' ')
        : cell;
}
