using System.Diagnostics;
using ControlPlane.TestSupport.Processes;

namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>A director or agent running as its own operating-system process, so tests can kill it for real.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;

    internal AppProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
    }

    /// <summary>What the test calls it (e.g. <c>director-1</c>).</summary>
    public string Name { get; }

    /// <summary>Operating-system process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Combined stdout and stderr.</summary>
    public string LogPath { get; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>When <see cref="KillAsync"/> sent SIGKILL (UTC), if it did.</summary>
    public DateTimeOffset? KilledAt { get; private set; }

    /// <summary>The last <paramref name="lines"/> lines of the log, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"(log unreadable: {e.Message})";
        }
    }

    /// <summary>True when the log contains <paramref name="text"/>.</summary>
    public bool LogContains(string text) => LogTail(int.MaxValue).Contains(text, StringComparison.Ordinal);

    /// <summary>kill -9, then waits for the exit.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        KilledAt = DateTimeOffset.UtcNow;
        Signals.Send(_process.Id, Signals.SigKill);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        ProcessLauncher.Forget(_process);
    }

    /// <summary>SIGTERM (a graceful stop); returns the exit code once it has exited within <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">It did not exit in time (it is then killed).</exception>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.SigTerm);
            try
            {
                await _process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await KillAsync().ConfigureAwait(false);
                throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s of SIGTERM. Log:\n{LogTail()}");
            }
        }

        ProcessLauncher.Forget(_process);
        return _process.ExitCode;
    }

    /// <summary>Kills the process if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.SigKill);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        ProcessLauncher.Forget(_process);
        _process.Dispose();
    }
}
