namespace ControlPlane.Agents.Runtime;

/// <summary>
/// Wakes a level-triggered loop: any number of signals before the loop looks count as one, and a signal is never
/// lost, because the loop re-reads all state after it wakes.
/// </summary>
internal sealed class Wakeup
{
    private TaskCompletionSource _signal = New();

    public void Signal() => Volatile.Read(ref _signal).TrySetResult();

    /// <summary>Returns on a signal or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _signal);
        try
        {
            await signal.Task.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The periodic pass.
        }

        if (signal.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _signal, New(), signal);
        }
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
