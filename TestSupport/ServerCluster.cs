using System.Diagnostics;
using ControlPlane.TestSupport.Processes;

namespace ControlPlane.TestSupport;

/// <summary>
/// Real server processes on loopback ports with their own temporary directory: the part that ZooKeeper
/// ensembles and etcd clusters share (start, readiness with a deadline, kill -9, graceful stop, restart,
/// freeze, teardown).
/// </summary>
/// <remarks>
/// Servers die with the test process even when it is killed (see <c>ProcessLauncher</c>), and their
/// directories are removed on dispose or, after an aborted run, by the next run.
/// </remarks>
public abstract class ServerCluster : IAsyncDisposable
{
    /// <summary>How long a member may take to answer after its process started.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);
    private readonly ServerMember[] _members;
    private int _disposed;

    private protected ServerCluster(string kind, int memberCount, Func<FixtureDirectory, int, ServerMember> createMember)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memberCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memberCount, 7);
        Directory = new FixtureDirectory(kind);
        _members = Enumerable.Range(0, memberCount).Select(i => createMember(Directory, i)).ToArray();
    }

    /// <summary>The members, by index.</summary>
    public IReadOnlyList<ServerMember> Members => _members;

    /// <summary>The cluster's temporary directory (data directories, configuration, logs).</summary>
    public string RootDirectory => Directory.Path;

    internal FixtureDirectory Directory { get; }

    /// <summary>Kills member <paramref name="index"/> with SIGKILL and waits until it has exited.</summary>
    public async Task KillAsync(int index)
    {
        var member = Member(index);
        if (member.Process is { } process)
        {
            Signals.Send(process.Id, Signals.SigKill);
            await WaitForExitAsync(member, process).ConfigureAwait(false);
        }
    }

    /// <summary>Stops member <paramref name="index"/> with SIGTERM and waits until it has exited
    /// (SIGKILL if it has not within 15 seconds).</summary>
    public async Task StopAsync(int index)
    {
        var member = Member(index);
        if (member.Process is { } process)
        {
            Signals.Send(process.Id, Signals.SigCont);
            Signals.Send(process.Id, Signals.SigTerm);
            await WaitForExitAsync(member, process).ConfigureAwait(false);
        }
    }

    /// <summary>Freezes member <paramref name="index"/> with SIGSTOP: its sockets stay open but it answers
    /// nothing, like a machine that hangs. <see cref="ThawMember"/> resumes it.</summary>
    public void FreezeMember(int index)
    {
        if (Member(index).Process is { HasExited: false } process)
        {
            Signals.Send(process.Id, Signals.SigStop);
        }
    }

    /// <summary>Resumes a member frozen by <see cref="FreezeMember"/>.</summary>
    public void ThawMember(int index)
    {
        if (Member(index).Process is { HasExited: false } process)
        {
            Signals.Send(process.Id, Signals.SigCont);
        }
    }

    /// <summary>Starts a stopped member again with the same ports and data, and waits until it serves.</summary>
    /// <exception cref="InvalidOperationException">The member is running.</exception>
    public async Task StartMemberAsync(int index, CancellationToken cancellationToken = default)
    {
        var member = Member(index);
        if (member.IsRunning)
        {
            throw new InvalidOperationException($"Member {member} is running; stop or kill it first.");
        }

        await LaunchAsync(member).ConfigureAwait(false);
        await WaitServingAsync(member, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts several stopped members at once (same ports and data), then waits until each serves: what a
    /// store whose members were all down needs, as no member of a quorum serves before a majority runs.</summary>
    /// <exception cref="InvalidOperationException">One of the members is running.</exception>
    public async Task StartMembersAsync(IEnumerable<int> indexes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        var members = indexes.Select(Member).ToList();
        if (members.FirstOrDefault(m => m.IsRunning) is { } running)
        {
            throw new InvalidOperationException($"Member {running} is running; stop or kill it first.");
        }

        foreach (var member in members)
        {
            await LaunchAsync(member).ConfigureAwait(false);
        }

        foreach (var member in members)
        {
            await WaitServingAsync(member, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills member <paramref name="index"/> with SIGKILL, starts it again and waits until it serves.</summary>
    public async Task RestartAsync(int index, CancellationToken cancellationToken = default)
    {
        await KillAsync(index).ConfigureAwait(false);
        await StartMemberAsync(index, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until every running member serves clients.</summary>
    public async Task WaitReadyAsync(CancellationToken cancellationToken = default)
    {
        foreach (var member in _members.Where(m => m.IsRunning))
        {
            await WaitServingAsync(member, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills every member and deletes the cluster's directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.WhenAll(_members.Select((_, i) => KillAsync(i))).ConfigureAwait(false);
        OnDisposed();
        Directory.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a subclass holds besides the processes (called once, after they are killed).</summary>
    private protected virtual void OnDisposed()
    {
    }

    /// <summary>The program, arguments and environment that run <paramref name="member"/>.</summary>
    private protected abstract (string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string>? Environment)
        CommandFor(ServerMember member);

    /// <summary>One probe: true when <paramref name="member"/> serves clients now. Must not throw on
    /// refused or reset connections; must return within a couple of seconds.</summary>
    private protected abstract Task<bool> IsServingAsync(ServerMember member, CancellationToken cancellationToken);

    /// <summary>Starts every member, then waits until all serve; retries with fresh ports when a port was
    /// taken between allocation and bind.</summary>
    private protected static async Task<T> StartAsync<T>(Func<T> create, CancellationToken cancellationToken)
        where T : ServerCluster
    {
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var cluster = create();
            try
            {
                foreach (var member in cluster._members)
                {
                    await cluster.LaunchAsync(member).ConfigureAwait(false);
                }

                await cluster.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
                return cluster;
            }
            catch (Exception) when (attempt < attempts && cluster.AnyLogMentionsPortInUse())
            {
                await cluster.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await cluster.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private ServerMember Member(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _members.Length);
        return _members[index];
    }

    private async Task LaunchAsync(ServerMember member)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var (fileName, arguments, environment) = CommandFor(member);
        member.Process = await ProcessLauncher
            .StartAsync(fileName, arguments, member.LogPath, Directory.Path, environment)
            .ConfigureAwait(false);
    }

    private async Task WaitServingAsync(ServerMember member, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (member.Process is not { HasExited: false } process)
            {
                throw new InvalidOperationException(
                    $"{GetType().Name} member {member} exited before serving (exit code {member.Process?.ExitCode}). Log tail:\n{member.LogTail()}");
            }

            if (await IsServingAsync(member, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (deadline.Elapsed > StartTimeout)
            {
                throw new TimeoutException(
                    $"{GetType().Name} member {member} (pid {process.Id}) did not serve within {StartTimeout.TotalSeconds:0} s. Log tail:\n{member.LogTail()}");
            }

            // Not a retry: polls the starting member until it serves (bounded by StartTimeout above).
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    private static async Task WaitForExitAsync(ServerMember member, Process process)
    {
        using var timeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM ignored for too long: make sure it dies, then wait for the kernel to reap it.
            Signals.Send(process.Id, Signals.SigKill);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        ProcessLauncher.Forget(process);
        process.Dispose();
        member.Process = null;
    }

    private bool AnyLogMentionsPortInUse() =>
        _members.Any(m => m.LogTail(200).Contains("in use", StringComparison.OrdinalIgnoreCase));
}
