using ControlPlane.Contracts;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agents.Executors;

/// <summary>
/// The <c>shell</c> executor: runs a job's argv as a process (no shell in between), in its own process group, with
/// the job's environment and working directory plus the fencing token (<c>CP_JOB_ID</c>, <c>CP_ATTEMPT</c>,
/// <c>CP_EPOCH</c>, <c>CP_WORKER_ID</c>) and the attempt's trace context (<c>TRACEPARENT</c>, when traced).
/// </summary>
internal sealed class ShellExecutor(IOptions<ShellExecutorOptions> options, TimeProvider time) : IExecutor
{
    private readonly ShellExecutorOptions _options = options.Value;

    public async Task<RunningExecution> StartAsync(ExecutionRequest request)
    {
        if (!_options.Enabled)
        {
            throw new ExecutorStartException("The shell executor is disabled on this agent (Executors:Shell:Enabled=false).");
        }

        if (request.Command is not { Count: > 0 } command || string.IsNullOrEmpty(command[0]))
        {
            throw new ExecutorStartException("A shell job needs a command (argv with at least the executable).");
        }

        if (request.WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            throw new ExecutorStartException($"The working directory '{directory}' does not exist on this agent.");
        }

        var env = request.Env.Concat(request.TokenVariables).Concat(request.TraceVariables).ToList();
        var path = request.Env.TryGetValue("PATH", out var jobPath) ? jobPath : Environment.GetEnvironmentVariable("PATH");
        var resolved = ExecutableResolver.Resolve(command[0], path, request.WorkingDirectory)
            ?? throw new ExecutorStartException($"The executable '{command[0]}' was not found (PATH and working directory searched).");
        if (_options.Allow is { Count: > 0 } allow && !allow.Contains(command[0]) && !allow.Contains(resolved))
        {
            throw new ExecutorStartException(
                $"The executable '{command[0]}' ({resolved}) is not in Executors:Shell:Allow on this agent.");
        }

        // argv[0] is passed resolved, so what runs is exactly what the allow-list approved.
        string[] argv = [resolved, .. command.Skip(1)];
        try
        {
            var (process, guard) = await ProcessLauncher.StartAsync(argv, env, request.WorkingDirectory).ConfigureAwait(false);
            return new ShellExecution(process, guard, new OutputTail(Limits.OutputTailBytes), _options.GracePeriod, time);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            throw new ExecutorStartException($"Could not start '{resolved}': {e.Message}", e);
        }
    }
}

/// <summary>Finds the file an argv[0] names, as execvp would.</summary>
internal static class ExecutableResolver
{
    /// <summary>The full path of <paramref name="name"/>: relative to <paramref name="workingDirectory"/> when it has a
    /// slash, else the first executable file in <paramref name="path"/>; null when there is none.</summary>
    public static string? Resolve(string name, string? path, string? workingDirectory)
    {
        var baseDirectory = workingDirectory ?? Environment.CurrentDirectory;
        if (name.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(name, baseDirectory);
            return IsExecutable(full) ? full : null;
        }

        foreach (var directory in (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.GetFullPath(Path.Combine(directory, name), baseDirectory);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsExecutable(string file) =>
        File.Exists(file) && (OperatingSystem.IsWindows()
            || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
