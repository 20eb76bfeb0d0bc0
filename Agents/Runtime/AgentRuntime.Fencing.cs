using ControlPlane.Agents.Diagnostics;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>
/// Self-fencing (docs/protocol.md, docs/agent.md): the store gives this worker's attempts away only after it expired
/// the worker's session, so every attempt is killed while the session is still provably alive for the margin. The
/// check is local arithmetic on the session's last acknowledged send time; it needs no answer from the store.
/// </summary>
internal sealed partial class AgentRuntime
{
    private bool _fencing;

    private async Task FenceLoopAsync(CancellationToken token)
    {
        while (true)
        {
            CheckFence();
            // Not a retry: the fence check's period (local arithmetic, no store call).
            await Task.Delay(FencePeriod, _time, token).ConfigureAwait(false);
        }
    }

    /// <summary>Kills every running attempt when the session could expire within the margin, or when the
    /// attempt belongs to a session that is no longer the store's. Runs on the fencing loop only (and in unit tests).</summary>
    internal void CheckFence()
    {
        var session = _store.Session;
        var margin = _options.EffectiveFencingMargin(session.Timeout);
        var alive = session.ProvablyAliveFor;
        var unsafeNow = alive < margin || session.State is SessionState.Lost or SessionState.Closed;
        var count = 0;
        foreach (var attempt in _attempts.Values)
        {
            if (attempt.Immediate is null && (unsafeNow || attempt.Assigned.WorkerSession != session.Id)
                && attempt.RequestStop(StopReason.Fenced))
            {
                count++;
                AgentMetrics.AttemptFenced();
                if (attempt.Started)
                {
                    // Not yet started ones never start: they have no execution to kill.
                    Emit(ExecutionEventKind.Fenced, attempt, null);
                }
            }
        }

        if (count > 0)
        {
            _fencing = true;
            AgentLog.Fenced(_logger, session.Id, (long)alive.TotalMilliseconds, (long)margin.TotalMilliseconds, count);
        }
        else if (_fencing && IsHealthy(session))
        {
            _fencing = false;
            AgentLog.Unfenced(_logger, session.Id);
            _wake.Signal();
        }
    }
}
