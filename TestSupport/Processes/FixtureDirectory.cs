using System.Diagnostics;
using System.Globalization;

namespace ControlPlane.TestSupport.Processes;

/// <summary>
/// A temporary directory owned by this test process: <c>$TMPDIR/cp-fixtures/&lt;pid&gt;-&lt;name&gt;</c>.
/// </summary>
/// <remarks>
/// Disposing deletes it. A run that was killed cannot clean up after itself, so the first fixture of every
/// run removes the directories whose owning process no longer exists: nothing is left behind for long.
/// </remarks>
internal sealed class FixtureDirectory : IDisposable
{
    /// <summary>Where every fixture directory lives; test.sh checks it is empty after a run.</summary>
    public static readonly string Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cp-fixtures");

    private static int _swept;

    public FixtureDirectory(string name)
    {
        if (Interlocked.Exchange(ref _swept, 1) == 0)
        {
            SweepAbandoned();
        }

        Path = System.IO.Path.Combine(Root, $"{Environment.ProcessId}-{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The absolute path of the directory.</summary>
    public string Path { get; }

    /// <summary>Creates (if needed) and returns a subdirectory.</summary>
    public string Sub(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose() => TryDelete(Path);

    private static void SweepAbandoned()
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = System.IO.Path.GetFileName(dir);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0
                && int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && !IsAlive(pid))
            {
                TryDelete(dir);
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        // A server killed a moment ago may still be closing files; a few tries are enough.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 4)
            {
                Thread.Sleep(50);
            }
            catch (UnauthorizedAccessException) when (attempt < 4)
            {
                Thread.Sleep(50);
            }
        }
    }
}
