namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Test-only fault injection into the leader's scheduling loop, registered only by tests: <see cref="Stall"/> holds every
/// pass of every cell, or of one cell, at its start, so the loop makes no progress while its session and candidacy stay
/// alive, the case the watchdog exists for. A cell's stack is handed <see cref="For"/> its cell, which shares this state.
/// </summary>
internal sealed class SchedulerFaults
{
    private readonly SchedulerFaults? _shared;
    private readonly string? _cell;
    private volatile Held? _held;

    /// <summary>Creates the faults of a director (every cell's stack shares them).</summary>
    public SchedulerFaults()
    {
    }

    private SchedulerFaults(SchedulerFaults shared, string cell)
    {
        _shared = shared;
        _cell = cell;
    }

    /// <summary>Holds every pass from now on (of <paramref name="cell"/>'s loop only, when given), until <see cref="Release"/>.</summary>
    public void Stall(string? cell = null) => Root._held ??= new Held(cell);

    /// <summary>Lets passes run again.</summary>
    public void Release() => Interlocked.Exchange(ref Root._held, null)?.Gate.TrySetResult();

    /// <summary>The view of these faults that <paramref name="cell"/>'s scheduling loop uses.</summary>
    public SchedulerFaults For(string cell) => new(Root, cell);

    /// <summary>Waits while passes of this view's cell are held (or until <paramref name="cancellationToken"/> fires: a
    /// resigned term ends).</summary>
    public Task BeforePassAsync(CancellationToken cancellationToken) =>
        Root._held is { } held && (held.Cell is null || held.Cell == _cell) ? held.Gate.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    private SchedulerFaults Root => _shared ?? this;

    private sealed record Held(string? Cell)
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
