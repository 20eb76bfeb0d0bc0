using ControlPlane.Agents.Executors;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Agents.Runtime;

/// <summary>Why the agent stopped an attempt before it ended on its own; decides what is reported.</summary>
internal enum StopReason
{
    /// <summary>Not stopped: the outcome is the executor's.</summary>
    None,

    /// <summary>The assignment asked for cancellation: reported <c>Cancelled</c>.</summary>
    Cancel,

    /// <summary>It ran past <c>timeoutSeconds</c>: reported <c>Failed</c>.</summary>
    Timeout,

    /// <summary>A drain ran out of time: reported <c>Lost</c>, so it runs elsewhere.</summary>
    Drained,

    /// <summary>Self-fencing killed it: reported <c>Lost</c> once the store can be reached.</summary>
    Fenced,

    /// <summary>The assignment was deleted (taken back): nothing is reported.</summary>
    Withdrawn,
}

/// <summary>
/// One assignment this agent has taken on: from the <c>Running</c> write through execution to the final report.
/// The runner task owns the store writes; the reconcile loop and the fence monitor only ask it to stop.
/// </summary>
internal sealed class Attempt(string key, AssignmentRecord record, long version)
{
    private readonly Lock _lock = new();
    private RunningExecution? _execution;
    private StopReason _stop;
    private string? _progress;
    private bool _ended;
    private long _lastPulse;

    public string Key { get; } = key;

    /// <summary>The record as first seen (the executor's input).</summary>
    public AssignmentRecord Assigned { get; } = record;

    /// <summary>The last record known to be stored, and its version (what the next write is conditioned on).</summary>
    public AssignmentRecord Current { get; set; } = record;

    /// <summary>Version of <see cref="Current"/>.</summary>
    public long Version { get; set; } = version;

    /// <summary>The version of this agent's last successful write to the assignment; 0 before the first.</summary>
    public long WrittenVersion { get; set; }

    /// <summary>The final report was written, or found already there, or refused because the attempt is gone: the
    /// key needs nothing more from this agent. False after an abandoned report or a failure: then the orphan rule
    /// (a record that says Running that nothing here runs) reports the attempt Lost on a later pass.</summary>
    public bool Settled { get; set; }

    /// <summary>Slots held while in the table.</summary>
    public int Slots => Math.Max(1, Assigned.Slots);

    /// <summary>Set when the attempt needs no execution, only this report (cancelled before start, cannot run, orphan).</summary>
    public (AttemptState State, string? Error)? Immediate { get; init; }

    /// <summary>Set once the executor started (and the start event was emitted).</summary>
    public bool Started { get; set; }

    /// <summary>The attempt's <c>job.run</c> span while it runs; null when nobody traces.</summary>
    public System.Diagnostics.Activity? Trace { get; set; }

    public int? JobProcessId => _execution?.ProcessId;

    public StopReason Stop
    {
        get
        {
            lock (_lock)
            {
                return _stop;
            }
        }
    }

    public string? Progress
    {
        get => Volatile.Read(ref _progress);
        set => Volatile.Write(ref _progress, value);
    }

    /// <summary>When the executor path last completed a round (a <see cref="TimeProvider"/> timestamp); null before
    /// the execution started.</summary>
    public long? LastPulse => Interlocked.Read(ref _lastPulse) is var t and not 0 ? t : null;

    /// <summary>True once the execution is over (its outcome is being reported).</summary>
    public bool Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>Records that the executor path completed a round at <paramref name="timestamp"/>.</summary>
    public void Pulse(long timestamp) => Interlocked.Exchange(ref _lastPulse, timestamp == 0 ? 1 : timestamp);

    /// <summary>Records why it stops and stops the execution: fencing kills at once, everything else is graceful.
    /// The first reason wins, except that fencing overrides any reason but withdrawal (it must kill now). Returns
    /// true when the reason was recorded.</summary>
    public bool RequestStop(StopReason reason)
    {
        RunningExecution? execution;
        lock (_lock)
        {
            if (_ended)
            {
                // The execution is over: its result stands (and a report for a withdrawn assignment is rejected).
                return false;
            }

            var recorded = _stop == StopReason.None || (reason == StopReason.Fenced && _stop != StopReason.Withdrawn && _stop != StopReason.Fenced);
            if (!recorded)
            {
                // Fencing must still kill a withdrawn attempt that is only being stopped gracefully.
                if (reason == StopReason.Fenced)
                {
                    _execution?.Kill();
                }

                return false;
            }

            _stop = reason;
            execution = _execution;
        }

        if (execution is not null)
        {
            if (reason == StopReason.Fenced)
            {
                execution.Kill();
            }
            else
            {
                execution.RequestStop();
            }
        }

        return true;
    }

    /// <summary>Marks the execution over: later stop requests change nothing.</summary>
    public void MarkEnded()
    {
        lock (_lock)
        {
            _ended = true;
        }
    }

    /// <summary>Attaches the started execution, applying a stop that was asked for while it was starting.</summary>
    public void Attach(RunningExecution execution)
    {
        StopReason stop;
        lock (_lock)
        {
            _execution = execution;
            stop = _stop;
        }

        if (stop == StopReason.Fenced)
        {
            execution.Kill();
        }
        else if (stop != StopReason.None)
        {
            execution.RequestStop();
        }
    }
}
