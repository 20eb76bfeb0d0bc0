using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.TestSupport.Processes;

/// <summary>
/// Starts every server process from one dedicated, never-ending thread.
/// </summary>
/// <remarks>
/// Servers are started under <c>setpriv --pdeathsig KILL</c> so the kernel kills them when their parent
/// dies, even when the test host is killed with -9 and no cleanup code runs. Linux ties the parent-death
/// signal to the <em>thread</em> that forked the child, not the process: a child forked from a thread-pool
/// thread would be killed as soon as that thread retires. Forking from one thread that lives as long as the
/// process keeps the signal meaning "the test process is gone".
/// </remarks>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<Action> Work = new();
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private static readonly string? SetPriv = File.Exists("/usr/bin/setpriv") ? "/usr/bin/setpriv" : null;

    static ProcessLauncher()
    {
        var thread = new Thread(() =>
        {
            foreach (var action in Work.GetConsumingEnumerable())
            {
                action();
            }
        })
        {
            IsBackground = true,
            Name = "fixture-process-launcher",
        };
        thread.Start();

        // A normal exit of the test host (also on an unhandled exception) kills what is still running;
        // an abnormal one is covered by the parent-death signal.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    /// <summary>Starts <paramref name="fileName"/> with its output appended to <paramref name="logPath"/>.</summary>
    public static Task<Process> StartAsync(
        string fileName, IReadOnlyList<string> arguments, string logPath, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() =>
        {
            try
            {
                started.SetResult(StartNow(fileName, arguments, logPath, workingDirectory, environment));
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        });
        return started.Task;
    }

    private static Process StartNow(
        string fileName, IReadOnlyList<string> arguments, string logPath, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment)
    {
        // sh redirects the output to the log file and then execs the server, so the pid we hold is the
        // server's own pid (kill -9 hits the server, not a wrapper) and the log survives the test host.
        var info = new ProcessStartInfo
        {
            FileName = SetPriv ?? "/bin/sh",
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        if (SetPriv is not null)
        {
            info.ArgumentList.Add("--pdeathsig");
            info.ArgumentList.Add("KILL");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add("/bin/sh");
        }

        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$CP_FIXTURE_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["CP_FIXTURE_LOG"] = logPath;
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        Live[process.Id] = process;
        return process;
    }

    /// <summary>Forgets a process that has exited.</summary>
    public static void Forget(Process process) => Live.TryRemove(process.Id, out _);

    private static void KillAll()
    {
        foreach (var process in Live.Values)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }
        }
    }
}
