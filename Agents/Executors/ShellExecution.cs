using System.Diagnostics;

namespace ControlPlane.Agents.Executors;

/// <summary>A running job process: its output goes into a bounded tail, and stops signal its whole process group.</summary>
internal sealed class ShellExecution : RunningExecution
{
    // Once the job's own process has exited, output still buffered in the pipes is read for at most this long
    // (something left in the background may hold a pipe open until it is killed).
    private static readonly TimeSpan DrainOutputFor = TimeSpan.FromSeconds(2);
    private readonly Process _process;
    private readonly Process? _guard;
    private readonly OutputTail _tail;
    private readonly TimeSpan _grace;
    private readonly TimeProvider _time;
    private readonly int _pid;
    private readonly Task<ExecutionOutcome> _completion;
    private ITimer? _killTimer;
    private int _stopRequested;

    public ShellExecution(Process process, Process? guard, OutputTail tail, TimeSpan grace, TimeProvider time)
    {
        _process = process;
        _guard = guard;
        _tail = tail;
        _grace = grace;
        _time = time;
        _pid = process.Id;
        var stdout = PumpAsync(process.StandardOutput.BaseStream);
        var stderr = PumpAsync(process.StandardError.BaseStream);
        _completion = CompleteAsync(stdout, stderr);
    }

    public override Task<ExecutionOutcome> Completion => _completion;

    public override int? ProcessId => _pid;

    public override void RequestStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) != 0 || _completion.IsCompleted)
        {
            return;
        }

        NativeMethods.SignalGroup(_pid, NativeMethods.SigTerm);
        _killTimer = _time.CreateTimer(static state => ((ShellExecution)state!).Kill(), this, _grace, Timeout.InfiniteTimeSpan);
    }

    public override void Kill()
    {
        if (!_completion.IsCompleted)
        {
            NativeMethods.SignalGroup(_pid, NativeMethods.SigKill);
        }
    }

    private async Task<ExecutionOutcome> CompleteAsync(Task stdout, Task stderr)
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        var exitCode = _process.ExitCode;
        // The job is its process: whatever it left behind in its group goes with it (and releases the pipes).
        NativeMethods.SignalGroup(_pid, NativeMethods.SigKill);
        _killTimer?.Dispose();
        await ReleaseGuardAsync().ConfigureAwait(false);

        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(DrainOutputFor, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Something outside the group holds the pipe (it called setsid itself): report what we have.
        }

        _process.Dispose();
        return new ExecutionOutcome(exitCode, _tail.ToString(), exitCode == 0 ? null : Describe(exitCode));
    }

    private async Task ReleaseGuardAsync()
    {
        if (_guard is null)
        {
            return;
        }

        ProcessLauncher.Release(_guard);
        try
        {
            await _guard.WaitForExitAsync().WaitAsync(DrainOutputFor, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // It exits on its own once it reads the line; nothing waits on it.
        }

        _guard.Dispose();
    }

    private static string Describe(int exitCode) => exitCode > 128 && exitCode < 128 + 65
        ? $"The process was killed by signal {exitCode - 128} (exit code {exitCode})."
        : $"The process exited with code {exitCode}.";

    private async Task PumpAsync(Stream stream)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                _tail.Append(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe went away with the process.
        }
    }
}
