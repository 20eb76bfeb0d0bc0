using ControlPlane.Agents.Diagnostics;
using ControlPlane.Agents.Executors;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Agents.Runtime;

/// <summary>An attempt's life: confirm the start, run, heartbeat, enforce the timeout, report.</summary>
internal sealed partial class AgentRuntime
{
    private void Launch(Attempt attempt)
    {
        if (_attempts.TryAdd(attempt.Key, attempt))
        {
            _beatWake.Signal();
            _ = Task.Run(() => RunAttemptAsync(attempt), CancellationToken.None);
        }
    }

    private async Task RunAttemptAsync(Attempt attempt)
    {
        try
        {
            if (attempt.Immediate is { } immediate)
            {
                await ReportAsync(attempt, immediate.State, null, "", immediate.Error).ConfigureAwait(false);
                return;
            }

            // The start is confirmed in the store BEFORE anything runs: a failed write means the attempt was
            // withdrawn or changed, and then it is not started (the next pass looks at it afresh).
            var now = _time.GetUtcNow();
            var confirm = await WriteAsync(attempt, r => r with { State = AttemptState.Running, StartedAt = now, HeartbeatAt = now }, merge: false).ConfigureAwait(false);
            if (confirm != WriteResult.Written)
            {
                return;
            }

            await ExecuteAsync(attempt).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Never leave an attempt half-done in the table: the orphan rule reports it Lost if it still says Running.
            AgentLog.LoopFailed(_logger, e, "attempt " + attempt.Key);
        }
        finally
        {
            // Only a settled attempt is remembered as done; an unsettled one that wrote Running is picked up again by
            // the orphan rule, so an attempt whose report was abandoned cannot stay Running (and hold the worker) forever.
            if (attempt.WrittenVersion > 0 && (attempt.Settled || attempt.Stop == StopReason.Withdrawn))
            {
                _finished[attempt.Key] = attempt.WrittenVersion;
            }

            _attempts.TryRemove(attempt.Key, out _);
            _wake.Signal();
            _beatWake.Signal();
        }
    }

    private async Task ExecuteAsync(Attempt attempt)
    {
        // A fence or cancel that came while the start was being confirmed: do not start at all.
        if (attempt.Stop == StopReason.None && !IsHealthy(_store.Session))
        {
            attempt.RequestStop(StopReason.Fenced);
        }

        if (attempt.Stop != StopReason.None)
        {
            await ReportStoppedAsync(attempt, null, "").ConfigureAwait(false);
            return;
        }

        var record = attempt.Assigned;
        // The run's span is Activity.Current from here on: a handler's own spans nest under it.
        using var trace = AgentTracing.StartRun(record, WorkerId);
        attempt.Trace = trace;
        var request = new ExecutionRequest(
            record.JobId, record.Attempt, record.Epoch, WorkerId, record.Executor, record.Command, record.Args,
            _options.Has(Protocol.Features.Env) ? record.Env ?? new Dictionary<string, string>() : new Dictionary<string, string>(),
            _options.Has(Protocol.Features.WorkingDirectory) ? record.WorkingDirectory : null)
        {
            Progress = p => attempt.Progress = p,
            // Untraced here, the job still joins the job's trace under the leader's placement (or the submission).
            TraceParent = trace?.Id ?? record.TraceParent,
        };
        RunningExecution execution;
        try
        {
            execution = await _executors.For(record.Executor).StartAsync(request).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any failure to start (a bad working directory, a handler whose constructor throws) fails the attempt
            // with its reason: it must never leave the attempt saying Running with nothing running it.
            var message = e is ExecutorStartException ? e.Message : $"The {record.Executor} executor could not start the job: {e.Message}";
            AgentLog.CannotStart(_logger, attempt.Key, message);
            await ReportAsync(attempt, AttemptState.Failed, null, "", message).ConfigureAwait(false);
            return;
        }

        // A stop asked for while the executor was starting is applied now.
        attempt.Attach(execution);
        attempt.Started = true;
        AgentMetrics.AttemptStarted();
        AgentLog.AttemptStarted(_logger, attempt.Key, record.Executor, record.Epoch);
        Emit(ExecutionEventKind.Start, attempt, null);

        using var running = new CancellationTokenSource();
        attempt.Pulse(_time.GetTimestamp());
        var heartbeats = WorkerBeats ? PulseLoopAsync(attempt, running.Token)
            : _options.Has(Protocol.Features.Heartbeat) ? HeartbeatLoopAsync(attempt, running.Token)
            : Task.CompletedTask;
        // The leader enforces the timeout too (plus a grace), even when this agent falls silent.
        using var timeout = record.TimeoutSeconds is > 0 && _options.Has(Protocol.Features.Timeout)
            ? _time.CreateTimer(_ => TimeOut(attempt), null, TimeSpan.FromSeconds(record.TimeoutSeconds.Value), Timeout.InfiniteTimeSpan)
            : null;
        var outcome = await execution.Completion.ConfigureAwait(false);
        attempt.MarkEnded();
        await running.CancelAsync().ConfigureAwait(false);
        await heartbeats.ConfigureAwait(false);

        // The outcome is the executor's unless the agent stopped it; then why it stopped it decides.
        if (attempt.Stop == StopReason.None)
        {
            var state = outcome.ExitCode == 0 ? AttemptState.Succeeded : AttemptState.Failed;
            Ended(attempt, state.ToString(), outcome.ExitCode);
            await ReportAsync(attempt, state, outcome.ExitCode, outcome.Output, outcome.Error).ConfigureAwait(false);
        }
        else
        {
            await ReportStoppedAsync(attempt, outcome.ExitCode, outcome.Output).ConfigureAwait(false);
        }
    }

    private void TimeOut(Attempt attempt)
    {
        if (attempt.RequestStop(StopReason.Timeout))
        {
            AgentLog.TimedOut(_logger, attempt.Key, attempt.Assigned.TimeoutSeconds ?? 0);
        }
    }

    /// <summary>The report of an attempt the agent stopped, by why it stopped it.</summary>
    private async Task ReportStoppedAsync(Attempt attempt, int? exitCode, string output)
    {
        var (state, error) = attempt.Stop switch
        {
            StopReason.Cancel => (AttemptState.Cancelled, "Cancelled on request."),
            StopReason.Timeout => (AttemptState.Failed, $"Timed out after {attempt.Assigned.TimeoutSeconds} s."),
            StopReason.Drained => (AttemptState.Lost, "Stopped by the agent's drain."),
            StopReason.Fenced => (AttemptState.Lost, "Killed by the agent's self-fencing: its store session could expire, or no beat it sent within its beat lease was acknowledged."),
            _ => (AttemptState.Lost, "Withdrawn by the leader."),
        };
        if (attempt.Started)
        {
            Ended(attempt, state.ToString(), exitCode);
        }

        if (attempt.Stop == StopReason.Withdrawn)
        {
            // The assignment is gone: there is nobody to report to.
            return;
        }

        await ReportAsync(attempt, state, exitCode, output, error).ConfigureAwait(false);
    }

    private void Ended(Attempt attempt, string state, int? exitCode)
    {
        AgentTracing.Ended(attempt.Trace, state, exitCode);
        AgentMetrics.AttemptFinished(state);
        AgentLog.AttemptEnded(_logger, attempt.Key, state, exitCode);
        Emit(ExecutionEventKind.End, attempt, state);
    }

    /// <summary>Feature <c>heartbeat</c> (agents configured for leaders that predate <c>workerHeartbeat</c>): rewrites
    /// the assignment's <c>heartbeatAt</c> and progress every interval.</summary>
    private async Task HeartbeatLoopAsync(Attempt attempt, CancellationToken token)
    {
        try
        {
            while (true)
            {
                // Not a retry: one heartbeat interval between two heartbeat writes of this attempt.
                await Task.Delay(_options.HeartbeatInterval, _time, token).ConfigureAwait(false);
                var now = _time.GetUtcNow();
                var progress = attempt.Progress;
                var result = await WriteAsync(attempt, r => r with { HeartbeatAt = now, Progress = progress ?? r.Progress }, merge: true, token).ConfigureAwait(false);
                if (result == WriteResult.Gone && attempt.RequestStop(StopReason.Withdrawn))
                {
                    AgentLog.Withdrawn(_logger, attempt.Key);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The attempt ended.
        }
    }
}
