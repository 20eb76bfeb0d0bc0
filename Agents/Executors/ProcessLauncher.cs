using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.Agents.Executors;

/// <summary>
/// Starts job processes as <c>setpriv --pdeathsig KILL -- setsid -- argv…</c>, always from one dedicated thread.
/// </summary>
/// <remarks>
/// setsid gives the job its own session and process group whose id is the job's pid (a child is never a group
/// leader, so setsid execs in place), which lets the agent signal everything the job started at once. setpriv sets
/// PR_SET_PDEATHSIG, so the kernel kills the job if the agent dies, even by SIGKILL. Linux delivers that signal when
/// the <em>thread</em> that forked the child ends, not the process: .NET forks on the calling thread, and thread-pool
/// threads retire when idle, so every fork happens on one thread that lives as long as the process.
/// </remarks>
internal static class ProcessLauncher
{
    public const string SetSid = "/usr/bin/setsid";
    public const string SetPriv = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> Queue = [];
    private static readonly Lazy<Thread> Spawner = new(StartSpawner);

    /// <summary>Starts <paramref name="argv"/> (argv[0] a full path) in its own process group, stdin at EOF and
    /// stdout/stderr redirected to pipes.</summary>
    public static Task<Process> StartAsync(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> env, string? workingDirectory)
    {
        var info = new ProcessStartInfo(SetPriv)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var arg in (string[])["--pdeathsig", "KILL", "--", SetSid, "--"])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var arg in argv)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Spawner.Value;
        Queue.Add((info, started));
        return started.Task;
    }

    private static Thread StartSpawner()
    {
        var thread = new Thread(() =>
        {
            foreach (var (info, started) in Queue.GetConsumingEnumerable())
            {
                try
                {
                    var process = Process.Start(info) ?? throw new InvalidOperationException("No process was started.");
                    // The job reads nothing from the agent: EOF at once rather than a read that never returns.
                    process.StandardInput.Close();
                    started.SetResult(process);
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        })
        {
            IsBackground = true,
            Name = "ControlPlane job spawner",
        };
        thread.Start();
        return thread;
    }
}
