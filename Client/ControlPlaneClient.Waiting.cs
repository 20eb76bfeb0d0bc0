using System.Runtime.CompilerServices;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Client;

/// <summary>Waiting for jobs.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>
    /// The job as it changes: first as it is now, then each time its state or attempt changes (or a cancellation is
    /// requested), ending after the first terminal view (Succeeded, Failed or Cancelled). Reads the job every
    /// <see cref="ControlPlaneClientOptions.PollInterval"/>, each time at least as new as the last view, so a failover to
    /// another director never goes back in time; a short-lived state between two reads may be skipped.
    /// </summary>
    /// <param name="id">The job.</param>
    /// <param name="timeout">How long to wait in all; null to wait until <paramref name="cancellationToken"/> is cancelled.</param>
    /// <param name="minRevision">Read at this revision or later from the start (e.g. the submission's <see cref="JobView.Revision"/>).</param>
    /// <param name="cancellationToken">Stops the wait with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ControlPlaneWaitTimeoutException">The job did not finish within <paramref name="timeout"/> (it goes on).</exception>
    /// <exception cref="ControlPlaneNotFoundException">No such job.</exception>
    public IAsyncEnumerable<JobView> WatchJobAsync(string id, TimeSpan? timeout = null, long? minRevision = null, CancellationToken cancellationToken = default)
    {
        // Arguments are checked here, when the call is made, not at the first MoveNextAsync.
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout must be positive.");
        }

        return WatchAsync(id, timeout, minRevision, cancellationToken);
    }

    /// <summary>Waits until the job is terminal and returns it, as the last view of <see cref="WatchJobAsync"/>.</summary>
    /// <exception cref="ControlPlaneWaitTimeoutException">The job did not finish within <paramref name="timeout"/>.</exception>
    public async Task<JobView> WaitForJobAsync(string id, TimeSpan? timeout = null, long? minRevision = null, CancellationToken cancellationToken = default)
    {
        JobView? last = null;
        await foreach (var view in WatchJobAsync(id, timeout, minRevision, cancellationToken).ConfigureAwait(false))
        {
            last = view;
        }

        return last!;
    }

    private async IAsyncEnumerable<JobView> WatchAsync(string id, TimeSpan? timeout, long? minRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One time budget for the whole wait, on the injected clock, so tests can drive it.
        using var deadline = timeout is { } t ? new CancellationTokenSource(t, _time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        JobView? last = null;
        while (true)
        {
            var view = await StepAsync(id, last, minRevision, timeout, deadline, linked.Token, cancellationToken).ConfigureAwait(false);
            if (last is null || view.State != last.State || view.Attempt != last.Attempt || view.CancelRequested != last.CancelRequested)
            {
                yield return view;
            }

            if (view.State.IsTerminal())
            {
                yield break;
            }

            last = view;
        }
    }

    /// <summary>Waits a poll interval (not before the first read) and reads the job, turning the deadline into
    /// <see cref="ControlPlaneWaitTimeoutException"/>.</summary>
    private async Task<JobView> StepAsync(
        string id, JobView? last, long? minRevision, TimeSpan? timeout, CancellationTokenSource deadline, CancellationToken token, CancellationToken callerToken)
    {
        try
        {
            if (last is not null)
            {
                await DelayAsync(_options.PollInterval, token).ConfigureAwait(false);
            }

            return await GetJobAsync(id, last?.Revision ?? minRevision, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !callerToken.IsCancellationRequested)
        {
            var seen = last is null ? "it was never read" : $"it was last {last.State} (attempt {last.Attempt}{(last.WorkerId is null ? "" : " on " + last.WorkerId)})";
            throw new ControlPlaneWaitTimeoutException($"Job {id} did not finish within {timeout!.Value.TotalSeconds:0.#} s; {seen}. The job goes on.", last, e);
        }
    }
}
