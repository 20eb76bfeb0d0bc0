using ControlPlane.Agents.Diagnostics;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>
/// Self-fencing (docs/protocol.md, docs/agent.md): the store gives this worker's attempts away only after it expired
/// the worker's session, so every attempt is killed while the session is still provably alive for the margin. The
/// check is local arithmetic on the session's last acknowledged send time; it needs no answer from the store.
/// With feature <c>beatFence</c> the same monitor also fences when no registration update (beat) sent within the beat
/// lease has been acknowledged (docs/protocol.md, "Agent: beat fence"): the leader takes the attempts of a worker whose
/// beats stopped back after the lease and a half, so they must be dead by then although the session lives. The
/// monitor reads only the send time the beat writes record, so a stuck beat loop cannot hold it up.
/// </summary>
internal sealed partial class AgentRuntime
{
    private bool _fencing;

    // The beat lease (null without feature beatFence), fixed when the run starts: it is advertised in the registration.
    private TimeSpan? _beatLease;

    // Send time (the provider's timestamp) of the newest registration write the store acknowledged.
    private long _beatAckedSend;

    /// <summary>Records that a registration write sent at <paramref name="sent"/> was acknowledged (only ever moves on).</summary>
    private void BeatAcknowledged(long sent)
    {
        var seen = Interlocked.Read(ref _beatAckedSend);
        // Bounded: each round either writes or sees a newer send time written by another thread.
        while (sent > seen)
        {
            var found = Interlocked.CompareExchange(ref _beatAckedSend, sent, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }

    /// <summary>How long ago the newest acknowledged beat was sent, when that is more than the beat lease; else null.</summary>
    private TimeSpan? BeatLapsed() =>
        _beatLease is { } lease && _time.GetElapsedTime(Interlocked.Read(ref _beatAckedSend)) is var silence && silence > lease ? silence : null;

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
        var lapsed = BeatLapsed();
        var unsafeNow = alive < margin || session.State is SessionState.Lost or SessionState.Closed || lapsed is not null;
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
            if (lapsed is { } silence && alive >= margin && session.State is not (SessionState.Lost or SessionState.Closed))
            {
                AgentLog.BeatFenced(_logger, (long)silence.TotalMilliseconds, (long)_beatLease!.Value.TotalMilliseconds, count);
            }
            else
            {
                AgentLog.Fenced(_logger, session.Id, (long)alive.TotalMilliseconds, (long)margin.TotalMilliseconds, count);
            }
        }
        else if (_fencing && IsHealthy(session))
        {
            _fencing = false;
            AgentLog.Unfenced(_logger, session.Id);
            _wake.Signal();
        }
    }
}
