using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.Agents.Executors;

/// <summary>
/// Starts job processes as <c>setpriv --pdeathsig KILL -- setsid -- argv…</c>, each with a guard, always from one
/// dedicated thread.
/// </summary>
/// <remarks>
/// setsid gives the job its own session and process group whose id is the job's pid (a child is never a group
/// leader, so setsid execs in place), which lets the agent signal everything the job started at once. setpriv sets
/// PR_SET_PDEATHSIG, so the kernel kills the job if the agent dies, even by SIGKILL. Linux delivers that signal when
/// the <em>thread</em> that forked the child ends, not the process: .NET forks on the calling thread, and thread-pool
/// threads retire when idle, so every fork happens on one thread that lives as long as the process.
/// PR_SET_PDEATHSIG is not inherited by the job's own children, so each job also gets a guard: a tiny shell in a
/// session of its own that blocks reading a pipe from the agent. The agent writes <c>done</c> once the job's group is
/// dead; if the agent dies first, the kernel closes the pipe, the read returns empty and the guard SIGKILLs the job's
/// whole process group. (.NET creates its pipes close-on-exec, so no other child holds the pipe open.)
/// </remarks>
internal static class ProcessLauncher
{
    public const string SetSid = "/usr/bin/setsid";
    public const string SetPriv = "/usr/bin/setpriv";

    /// <summary>The guard's script: $1 is the job's process group id (dash's kill takes no "--").</summary>
    private const string GuardScript = "read -r line; [ \"$line\" = done ] || kill -9 \"-$1\" 2>/dev/null";

    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<(Process Job, Process? Guard)> Started)> Queue = [];
    private static readonly Lazy<Thread> Spawner = new(StartSpawner);

    /// <summary>Starts <paramref name="argv"/> (argv[0] a full path) in its own process group, stdin at EOF and
    /// stdout/stderr redirected to pipes, and its guard (null if the guard could not start).</summary>
    public static Task<(Process Job, Process? Guard)> StartAsync(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> env, string? workingDirectory)
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

        var started = new TaskCompletionSource<(Process, Process?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Spawner.Value;
        Queue.Add((info, started));
        return started.Task;
    }

    /// <summary>Tells a guard the job's group is gone, so it exits without killing anything.</summary>
    public static void Release(Process guard)
    {
        try
        {
            guard.StandardInput.WriteLine("done");
            guard.StandardInput.Close();
        }
        catch (IOException)
        {
            // The guard is gone already.
        }
    }

    private static Process? StartGuard(int processGroupId)
    {
        var info = new ProcessStartInfo(SetSid) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in (string[])["--", "/bin/sh", "-c", GuardScript, "cp-job-guard", processGroupId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            return Process.Start(info);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // The job runs unguarded: only its main process dies with the agent.
            return null;
        }
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
                    started.SetResult((process, StartGuard(process.Id)));
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
