using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>
/// Liveness per worker, not per attempt (feature <c>workerHeartbeat</c>, docs/protocol.md "Agent: liveness"): one
/// update of the agent's own registration every <c>Agent:HeartbeatInterval</c>, listing the attempts whose executor
/// path is alive, instead of one rewrite of every running assignment (spec included) per interval. A change of the
/// used slots is written sooner, coalesced to at most one write per <see cref="SlotsChangeGap"/>.
/// </summary>
internal sealed partial class AgentRuntime
{
    // Wakes the beat loop: used slots changed, the registration was re-created, or the agent started draining.
    private readonly Wakeup _beatWake = new();

    // Every registration update goes through here, one at a time, and builds the record inside: a write that lands
    // later always carries the newer state (a beat cannot undo the drain mark).
    private readonly SemaphoreSlim _registrationWrites = new(1, 1);

    // Slots the last successful registration write said were used; -1 when it must be written again.
    private int _slotsWritten = -1;

    private bool WorkerBeats => _options.Has(Protocol.Features.WorkerHeartbeat);

    /// <summary>A start or finish is written at most this often (and never later than the next beat).</summary>
    private TimeSpan SlotsChangeGap => _options.HeartbeatInterval < TimeSpan.FromSeconds(1) ? _options.HeartbeatInterval : TimeSpan.FromSeconds(1);

    /// <summary>How recently an attempt's executor path must have completed a round to be listed as running: one
    /// interval and a half, so an on-time round is never missed and a wedged one is dropped by the second beat.</summary>
    private TimeSpan PulseWindow => _options.HeartbeatInterval * 1.5;

    /// <summary>Asks the beat loop to write the registration soon (coalesced).</summary>
    private void RegistrationChanged()
    {
        Volatile.Write(ref _slotsWritten, -1);
        _beatWake.Signal();
    }

    private async Task BeatLoopAsync(CancellationToken token)
    {
        // The registration was just created with a fresh beat: the first update is one interval later.
        var lastWrite = _time.GetTimestamp();
        while (true)
        {
            var sinceWrite = _time.GetElapsedTime(lastWrite);
            var untilBeat = _options.HeartbeatInterval - sinceWrite;
            var wait = untilBeat;
            if (UsedSlots != Volatile.Read(ref _slotsWritten))
            {
                var untilGap = SlotsChangeGap - sinceWrite;
                wait = untilGap < untilBeat ? untilGap : untilBeat;
            }

            if (wait > TimeSpan.Zero)
            {
                await _beatWake.WaitAsync(wait, _time, token).ConfigureAwait(false);
                continue;
            }

            lastWrite = _time.GetTimestamp();
            if (_options.FaultInjection.StopBeats)
            {
                // Fault injection (Agent:FaultInjection:StopBeats): a stuck beat loop; the session and the attempts carry on.
                continue;
            }

            await WriteRegistrationAsync(token).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the registration with the current state (a beat, for agents with <c>workerHeartbeat</c>).
    /// Failures are logged and left to the next beat, which is the retry: true when it was written.</summary>
    private async Task<bool> WriteRegistrationAsync(CancellationToken token)
    {
        await _registrationWrites.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var record = BuildRecord(_draining);
            // Taken before the send: the beat lease runs from here once the store acknowledges the write.
            var sent = _time.GetTimestamp();
            await _registration!.UpdateAsync(ContractJson.Serialize(record), token).ConfigureAwait(false);
            BeatAcknowledged(sent);
            Volatile.Write(ref _slotsWritten, record.SlotsUsed ?? 0);
            return true;
        }
        catch (StoreException e)
        {
            // Not registered right now (a new session registers with the latest record) or the store is slow: the
            // leader judges the silence, the next beat tries again.
            AgentLog.BeatFailed(_logger, WorkerId, e.Message);
            return false;
        }
        finally
        {
            _registrationWrites.Release();
        }
    }

    /// <summary>The attempts alive on their executor path now, by assignment name, in ordinal order.</summary>
    private List<string> RunningNames()
    {
        var now = _time.GetTimestamp();
        var names = new List<string>();
        foreach (var attempt in _attempts.Values)
        {
            if (attempt.Started && !attempt.Ended && attempt.LastPulse is { } pulse && _time.GetElapsedTime(pulse, now) <= PulseWindow)
            {
                names.Add(StoreKeys.Name(attempt.Key));
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>The executor path of one attempt (feature <c>workerHeartbeat</c>): each interval it completes a round
    /// (writing the handler's progress to the assignment when it changed, which is rare) and records that it did. Only
    /// attempts whose last round is recent are listed in the registration: a round stuck on its write, or an attempt
    /// task that no longer runs, drops the attempt from the beats, as a missing heartbeat write did before.</summary>
    private async Task PulseLoopAsync(Attempt attempt, CancellationToken token)
    {
        try
        {
            while (true)
            {
                // Not a retry: one heartbeat interval between two rounds of this attempt's pulse.
                await Task.Delay(_options.HeartbeatInterval, _time, token).ConfigureAwait(false);
                var progress = attempt.Progress;
                if (progress is not null && progress != attempt.Current.Progress)
                {
                    var result = await WriteAsync(attempt, r => r with { Progress = progress }, merge: true, token).ConfigureAwait(false);
                    if (result == WriteResult.Gone && attempt.RequestStop(StopReason.Withdrawn))
                    {
                        AgentLog.Withdrawn(_logger, attempt.Key);
                    }
                }

                attempt.Pulse(_time.GetTimestamp());
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The attempt ended.
        }
    }

    /// <summary>What the beat adds to the registration record (null fields for agents without the feature).</summary>
    private WorkerRecord WithBeat(WorkerRecord record) => WorkerBeats
        ? record with { HeartbeatAt = _time.GetUtcNow(), SlotsUsed = UsedSlots, Running = RunningNames(), BeatFenceSeconds = _beatLease?.TotalSeconds }
        : record;
}
