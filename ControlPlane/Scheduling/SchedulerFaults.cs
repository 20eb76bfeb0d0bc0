namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Fault injection for tests of the leader's watchdog: registered only by a test (never by the director itself), it
/// can hold every scheduling pass of this director before it starts, as a wedged loop would, while the director's
/// session and candidacy stay alive. Absent from the container, the scheduler does nothing extra.
/// </summary>
internal sealed class SchedulerFaults
{
    private volatile TaskCompletionSource? _held;

    /// <summary>Holds every pass from now on, until <see cref="Release"/>.</summary>
    public void Stall() => _held ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets passes run again.</summary>
    public void Release() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    /// <summary>Waits while passes are held (or until <paramref name="cancellationToken"/> fires: a resigned term ends).</summary>
    public Task BeforePassAsync(CancellationToken cancellationToken) =>
        _held is { } held ? held.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
}
