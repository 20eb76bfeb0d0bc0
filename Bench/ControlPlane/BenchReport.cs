using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Output of the control-plane scenarios: one JSON line per result (for scripts) and a short aligned table (for
/// people). Numbers are formatted with the invariant culture so the lines parse the same everywhere.
/// </summary>
internal static class BenchReport
{
    /// <summary>Writes <paramref name="result"/> as one JSON line on stdout.</summary>
    public static void Json(object result) => Console.WriteLine(JsonSerializer.Serialize(result));

    /// <summary>Writes an aligned table: a blank line, the header, then one line per row.</summary>
    public static void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        // Column width: the widest cell in it; the last column is not padded.
        var widths = Enumerable.Range(0, headers.Count).Select(c => all.Max(r => c < r.Count ? r[c].Length : 0)).ToArray();
        var text = new StringBuilder().AppendLine();
        foreach (var row in all)
        {
            for (var c = 0; c < row.Count; c++)
            {
                text.Append(c == row.Count - 1 ? row[c] : row[c].PadRight(widths[c] + 2));
            }

            text.AppendLine();
        }

        Console.Write(text.ToString());
    }

    /// <summary>A number for a table cell: one decimal, or "-" for NaN.</summary>
    public static string Cell(double value, string format = "0.0") =>
        double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Rounds for a JSON field; NaN (an empty sample) becomes null.</summary>
    public static double? Round(double value, int digits = 1) => double.IsNaN(value) ? null : Math.Round(value, digits);

    /// <summary>Resident set size of process <paramref name="pid"/> in MiB (<c>VmRSS</c> of /proc/&lt;pid&gt;/status), or NaN.</summary>
    public static double RssMb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    // "VmRSS:    123456 kB"
                    var kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return double.NaN;
    }

    /// <summary>User + system CPU seconds process <paramref name="pid"/> has used (/proc/&lt;pid&gt;/stat, 100 ticks per second), or NaN.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is 14th, stime 15th.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>The 1-minute load average (from /proc/loadavg), recorded with every result because the machine is shared.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
