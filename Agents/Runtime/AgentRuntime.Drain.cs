using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>Drain (docs/protocol.md "Agent: drain"): mark the registration draining, start nothing new, let running
/// attempts finish until the drain timeout, stop the rest (reported Lost), delete the drain record.</summary>
internal sealed partial class AgentRuntime
{
    // Beyond the grace period, time for the stopped attempts' reports.
    private static readonly TimeSpan ReportAllowance = TimeSpan.FromSeconds(15);

    private async Task DrainAsync(DrainCause cause, CancellationToken token)
    {
        _draining = true;
        AgentLog.DrainStarted(_logger, cause.ToString(), _attempts.Count, _options.DrainTimeout.TotalSeconds);
        _wake.Signal();
        if (_registration!.Registered && !await WriteRegistrationAsync(token).ConfigureAwait(false))
        {
            // The leader still sees no new free slots once they are taken; draining goes on regardless.
            AgentLog.DrainMarkFailed(_logger, WorkerId);
        }

        if (!await WaitForAttemptsAsync(_options.DrainTimeout, token).ConfigureAwait(false))
        {
            AgentLog.DrainStopping(_logger, _attempts.Count);
            foreach (var attempt in _attempts.Values)
            {
                attempt.RequestStop(StopReason.Drained);
            }

            await WaitForAttemptsAsync(_stopGrace + ReportAllowance, token).ConfigureAwait(false);
        }

        if (!_drains!.Items.IsEmpty)
        {
            try
            {
                await _store.CommitAsync(new Transaction().Delete(StoreLayout.Drain(WorkerId)), token).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // A drain record left behind only drains the next incarnation of this id at once; harmless.
            }
        }

        AgentLog.Drained(_logger, WorkerId);
    }

    /// <summary>Waits until no attempt is in progress; false when <paramref name="timeout"/> ran out first.</summary>
    private async Task<bool> WaitForAttemptsAsync(TimeSpan timeout, CancellationToken token)
    {
        var started = _time.GetTimestamp();
        while (!_attempts.IsEmpty)
        {
            if (_time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, token).ConfigureAwait(false);
        }

        return true;
    }
}
