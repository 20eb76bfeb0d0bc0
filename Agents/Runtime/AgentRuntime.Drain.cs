using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>Drain (docs/protocol.md "Agent: drain"): mark the registration draining, start nothing new, let running
/// attempts finish until the drain timeout, stop the rest (reported Lost), delete the drain record. A drain asked for by a
/// drain record is taken back if the record is deleted (<c>POST /v1/workers/{id}/undrain</c>) while attempts still finish.</summary>
internal sealed partial class AgentRuntime
{
    // Beyond the grace period, time for the stopped attempts' reports.
    private static readonly TimeSpan ReportAllowance = TimeSpan.FromSeconds(15);

    /// <summary>Drains; false when the drain was taken back before it finished (the agent runs on).</summary>
    private async Task<bool> DrainAsync(DrainCause cause, CancellationToken token)
    {
        _draining = true;
        AgentLog.DrainStarted(_logger, cause.ToString(), _attempts.Count, _options.DrainTimeout.TotalSeconds);
        _wake.Signal();
        if (_registration!.Registered && !await WriteRegistrationAsync(token).ConfigureAwait(false))
        {
            // The leader still sees no new free slots once they are taken; draining goes on regardless.
            AgentLog.DrainMarkFailed(_logger, WorkerId);
        }

        var finished = await WaitForAttemptsAsync(_options.DrainTimeout, token, takeBack: cause == DrainCause.DrainRecord).ConfigureAwait(false);
        if (finished == Waited.TakenBack)
        {
            _draining = false;
            _wake.Signal();
            // The leader places work here again once the registration says so; a failed write is retried by the next beat.
            await WriteRegistrationAsync(token).ConfigureAwait(false);
            AgentLog.DrainTakenBack(_logger, WorkerId, _attempts.Count);
            return false;
        }

        if (finished == Waited.TimedOut)
        {
            AgentLog.DrainStopping(_logger, _attempts.Count);
            foreach (var attempt in _attempts.Values)
            {
                attempt.RequestStop(StopReason.Drained);
            }

            await WaitForAttemptsAsync(_stopGrace + ReportAllowance, token, takeBack: false).ConfigureAwait(false);
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
        return true;
    }

    private enum Waited
    {
        Finished,
        TimedOut,
        TakenBack,
    }

    /// <summary>Waits until no attempt is in progress, <paramref name="timeout"/> runs out, or (with
    /// <paramref name="takeBack"/>) the drain record is gone while no stop was asked for.</summary>
    private async Task<Waited> WaitForAttemptsAsync(TimeSpan timeout, CancellationToken token, bool takeBack)
    {
        var started = _time.GetTimestamp();
        while (!_attempts.IsEmpty)
        {
            if (takeBack && !_mustStop && _drains!.Items.IsEmpty)
            {
                return Waited.TakenBack;
            }

            if (_time.GetElapsedTime(started) >= timeout)
            {
                return Waited.TimedOut;
            }

            // Not a retry: polls the running attempts until they finished, the drain was taken back or the timeout.
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, token).ConfigureAwait(false);
        }

        return Waited.Finished;
    }
}
