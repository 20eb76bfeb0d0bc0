using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ControlPlane.TestSupport;

/// <summary>
/// Waiting for a condition with a deadline: the only way tests synchronise with asynchronous effects
/// (never a fixed sleep). On timeout the failure says what was awaited and what was last seen.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="condition"/> until it is true or <paramref name="timeout"/> has passed.</summary>
    /// <param name="condition">Checked repeatedly; an exception it throws counts as "not yet" and is reported on timeout.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="describe">What was seen, for the failure message (called once, on timeout).</param>
    /// <param name="expression">Filled in by the compiler with the condition's source text.</param>
    /// <exception cref="TimeoutException">The condition did not hold in time.</exception>
    public static Task UntilAsync(
        Func<bool> condition, TimeSpan timeout, Func<string>? describe = null,
        [CallerArgumentExpression(nameof(condition))] string? expression = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, describe, expression);

    /// <summary>Polls the asynchronous <paramref name="condition"/> until it is true or <paramref name="timeout"/> has passed.</summary>
    /// <param name="condition">Checked repeatedly; an exception it throws counts as "not yet" and is reported on timeout.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="describe">What was seen, for the failure message (called once, on timeout).</param>
    /// <param name="expression">Filled in by the compiler with the condition's source text.</param>
    /// <exception cref="TimeoutException">The condition did not hold in time.</exception>
    public static async Task UntilAsync(
        Func<Task<bool>> condition, TimeSpan timeout, Func<string>? describe = null,
        [CallerArgumentExpression(nameof(condition))] string? expression = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromMilliseconds(10);
        Exception? lastError = null;
        var checks = 0;
        while (true)
        {
            checks++;
            try
            {
                if (await condition().ConfigureAwait(false))
                {
                    return;
                }

                lastError = null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                lastError = ex;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                var seen = describe is null ? string.Empty : $" Seen: {Safe(describe)}.";
                var error = lastError is null ? string.Empty : $" Last check threw {lastError.GetType().Name}: {lastError.Message}";
                throw new TimeoutException(
                    $"Condition `{expression}` did not hold within {timeout.TotalSeconds:0.###} s ({checks} checks).{seen}{error}", lastError);
            }

            // Not a retry: the poll interval before checking the condition again (never past the deadline).
            await Task.Delay(interval < left ? interval : left).ConfigureAwait(false);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxPollInterval.Ticks));
        }
    }

    /// <summary>Reads with <paramref name="read"/> until <paramref name="until"/> holds for what it read, and returns that;
    /// fails like <see cref="UntilAsync(Func{Task{bool}}, TimeSpan, Func{string}?, string?)"/>, showing the last value read.</summary>
    /// <exception cref="TimeoutException">The condition did not hold in time.</exception>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> read, Func<T, bool> until, TimeSpan timeout,
        [CallerArgumentExpression(nameof(until))] string? expression = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(until);
        var last = default(T);
        await UntilAsync(
            async () =>
            {
                last = await read().ConfigureAwait(false);
                return until(last);
            },
            timeout,
            () => last?.ToString() ?? "nothing",
            expression).ConfigureAwait(false);
        return last!;
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="what"/> if it does not finish within <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">The task did not finish in time.</exception>
    public static async Task<T> WithinAsync<T>(Task<T> task, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:0.###} s.", ex);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="what"/> if it does not finish within <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">The task did not finish in time.</exception>
    public static async Task WithinAsync(Task task, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:0.###} s.", ex);
        }
    }

    private static string Safe(Func<string> describe)
    {
        try
        {
            return describe();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"(describe threw {ex.GetType().Name}: {ex.Message})";
        }
    }
}
