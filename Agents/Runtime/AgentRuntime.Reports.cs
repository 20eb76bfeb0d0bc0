using System.Text.Json;
using ControlPlane.Agents.Diagnostics;
using ControlPlane.Agents.Executors;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Resilience;

namespace ControlPlane.Agents.Runtime;

/// <summary>How a conditioned write of an assignment went.</summary>
internal enum WriteResult
{
    /// <summary>Applied.</summary>
    Written,

    /// <summary>The assignment no longer exists: the attempt was taken back.</summary>
    Gone,

    /// <summary>The record changed under us more often than we retry (or could not be merged).</summary>
    Conflict,

    /// <summary>The store could not be reached.</summary>
    Unavailable,

    /// <summary>The stored record already carries a final report: nothing more to write.</summary>
    AlreadyFinished,
}

/// <summary>Writes to assignments: always conditioned on the version last seen, merged and retried on a version
/// change (the leader set <c>cancelRequested</c>), never applied to an assignment that was deleted.</summary>
internal sealed partial class AgentRuntime
{
    private const int MaxMerges = 5;

    // How long a final report is retried while the store is unreachable. Past it the leader takes the attempt back
    // anyway (the worker's session ends, or the suspect and timeout rules apply), and the orphan rule reports Lost.
    private static readonly TimeSpan ReportPatience = TimeSpan.FromMinutes(1);

    /// <summary>Reports a final state, retrying (bounded) until it is written, rejected or already there.</summary>
    private async Task ReportAsync(Attempt attempt, AttemptState state, int? exitCode, string output, string? error)
    {
        var now = _time.GetUtcNow();
        var progress = attempt.Progress;
        AssignmentRecord? Finish(AssignmentRecord r) => r.IsFinished ? null : r with
        {
            State = state,
            FinishedAt = now,
            ExitCode = exitCode,
            Output = OutputTail.Truncate(output, Limits.OutputTailBytes),
            Error = error is null || error.Length <= Limits.MaxErrorLength ? error : error[..Limits.MaxErrorLength],
            Progress = progress ?? r.Progress,
        };

        var started = _time.GetTimestamp();
        // agent.report: pauses between writes that did not land, until the patience ends.
        var retry = HostRetries.Report.Build(_time, ex => ex is ReportNotWritten,
            args => AgentLog.ReportRetry(_logger, attempt.Key, ((ReportNotWritten)args.Outcome.Exception!).Result.ToString()));
        try
        {
            await retry.ExecuteAsync(async token =>
            {
                var result = await WriteAsync(attempt, Finish, merge: true, token).ConfigureAwait(false);
                switch (result)
                {
                    case WriteResult.Written or WriteResult.AlreadyFinished:
                        attempt.Settled = true;
                        return;
                    case WriteResult.Gone:
                        attempt.Settled = true;
                        AgentMetrics.ReportRejected();
                        AgentLog.ReportRejected(_logger, attempt.Key, state.ToString());
                        Emit(ExecutionEventKind.Rejected, attempt, state.ToString());
                        return;
                }

                if (_time.GetElapsedTime(started) > ReportPatience)
                {
                    AgentLog.ReportAbandoned(_logger, attempt.Key, state.ToString(), ReportPatience.TotalSeconds);
                    return;
                }

                throw new ReportNotWritten(result);
            }, _abort.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Aborted shutdown: the leader takes the attempt back when the session ends.
        }
    }

    /// <summary>Writes <paramref name="apply"/>(last known record) conditioned on the last known version. With
    /// <paramref name="merge"/>, a version change re-reads the record, applies again on top of it and retries.</summary>
    private async Task<WriteResult> WriteAsync(
        Attempt attempt, Func<AssignmentRecord, AssignmentRecord?> apply, bool merge, CancellationToken cancellationToken = default)
    {
        for (var round = 0; round <= MaxMerges; round++)
        {
            if (apply(attempt.Current) is not { } next)
            {
                return WriteResult.AlreadyFinished;
            }

            var bytes = ContractJson.Serialize(next);
            StoreItem? fresh;
            try
            {
                var result = await _store.CommitAsync(new Transaction().Update(attempt.Key, bytes, attempt.Version), cancellationToken).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    Written(attempt, next, result.Items[0]!.Version);
                    return WriteResult.Written;
                }

                fresh = await _store.GetAsync(attempt.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreOutcomeUnknownException)
            {
                // Read before retrying: our own bytes there mean it landed.
                try
                {
                    fresh = await _store.GetAsync(attempt.Key, cancellationToken).ConfigureAwait(false);
                }
                catch (StoreException)
                {
                    return WriteResult.Unavailable;
                }

                if (fresh is not null && fresh.Value.Span.SequenceEqual(bytes))
                {
                    Written(attempt, next, fresh.Version);
                    return WriteResult.Written;
                }
            }
            catch (StoreException)
            {
                return WriteResult.Unavailable;
            }

            if (fresh is null)
            {
                return WriteResult.Gone;
            }

            if (!merge)
            {
                return WriteResult.Conflict;
            }

            try
            {
                attempt.Current = ContractJson.Deserialize<AssignmentRecord>(fresh.Value.Span);
                attempt.Version = fresh.Version;
            }
            catch (JsonException)
            {
                return WriteResult.Conflict;
            }

            if (attempt.Current.CancelRequested && _options.Has(Protocol.Features.Cancel) && attempt.RequestStop(StopReason.Cancel))
            {
                AgentLog.CancelRequested(_logger, attempt.Key);
            }
        }

        return WriteResult.Conflict;
    }

    private static void Written(Attempt attempt, AssignmentRecord record, long version)
    {
        attempt.Current = record;
        attempt.Version = version;
        attempt.WrittenVersion = version;
    }
}

/// <summary>A final report that did not land this time (the store unreachable, or a conflict): retried.</summary>
internal sealed class ReportNotWritten(WriteResult result) : Exception($"the report was not written ({result})")
{
    public WriteResult Result => result;
}
