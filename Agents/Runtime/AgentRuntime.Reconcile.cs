using System.Collections.Concurrent;
using System.Text.Json;
using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;

namespace ControlPlane.Agents.Runtime;

/// <summary>The level-triggered reconciliation of docs/protocol.md ("Agent: assignments"): every pass compares the
/// cached assignments with what runs here and acts on the difference, so a lost or repeated event costs latency only.</summary>
internal sealed partial class AgentRuntime
{
    // Last version this agent wrote to a key it has finished with: a cache that still shows an older version (our
    // final write not yet applied) must not make the key look like new work or an orphan.
    private readonly ConcurrentDictionary<string, long> _finished = new(StringComparer.Ordinal);

    // Each assignment parsed once per modification revision (null when unparseable, which is logged that once): a
    // pass then costs a dictionary lookup per unchanged assignment instead of a JSON parse, so a wake-up caused by one
    // change parses one record, not every record this agent holds.
    private readonly Dictionary<string, (long ModRevision, AssignmentRecord? Record)> _parsed = new(StringComparer.Ordinal);

    private async Task ReconcileLoopAsync(CancellationToken token)
    {
        while (true)
        {
            token.ThrowIfCancellationRequested();
            Reconcile();
            await _wake.WaitAsync(ReconcilePeriod, _time, token).ConfigureAwait(false);
        }
    }

    // Passes never overlap (a unit test may run one beside the loop); the bookkeeping above is the loop's own.
    private readonly Lock _reconcileLock = new();

    /// <summary>One pass: runs on the reconcile loop (and in unit tests).</summary>
    internal void Reconcile()
    {
        lock (_reconcileLock)
        {
            ReconcileOnce();
        }
    }

    private void ReconcileOnce()
    {
        if (!_drains!.Items.IsEmpty)
        {
            RequestDrain(DrainCause.DrainRecord);
        }

        var session = _store.Session;
        var healthy = Registered && IsHealthy(session);
        var items = _assignments!.Items;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, item) in items)
        {
            if (StoreKeys.Parent(key) != _assignmentsPrefix || Parse(key, item) is not { } record)
            {
                continue;
            }

            seen.Add(key);
            if (_attempts.TryGetValue(key, out var running))
            {
                if (record.CancelRequested && _options.Has(Protocol.Features.Cancel) && running.RequestStop(StopReason.Cancel))
                {
                    AgentLog.CancelRequested(_logger, key);
                }

                continue;
            }

            // Work of an earlier incarnation is the leader's to take back; nothing starts while unhealthy.
            if ((_finished.TryGetValue(key, out var written) && item.Version <= written) || record.WorkerSession != session.Id || !healthy)
            {
                continue;
            }

            if (record.State == AttemptState.Assigned)
            {
                ConsiderStart(key, item, record);
            }
            else if (record.State == AttemptState.Running)
            {
                // Says Running on our session, yet nothing here runs it: we cannot vouch for it.
                AgentLog.Orphan(_logger, key);
                Launch(new Attempt(key, record, item.Version) { Immediate = (AttemptState.Lost, "The agent was not running this attempt.") });
            }
        }

        foreach (var attempt in _attempts.Values)
        {
            if (!seen.Contains(attempt.Key) && attempt.Immediate is null && attempt.RequestStop(StopReason.Withdrawn))
            {
                AgentLog.Withdrawn(_logger, attempt.Key);
            }
        }

        Forget(_finished, items);
        Forget(_parsed, items);
    }

    private void ConsiderStart(string key, StoreItem item, AssignmentRecord record)
    {
        if (record.CancelRequested && _options.Has(Protocol.Features.Cancel))
        {
            Launch(new Attempt(key, record, item.Version) { Immediate = (AttemptState.Cancelled, "Cancelled before it started.") });
        }
        else if (_draining)
        {
            // Draining: left Assigned; the leader takes it back after its start timeout.
        }
        else if (_options.FaultInjection.StartNothing)
        {
            // Fault injection (Agent:FaultInjection:StartNothing): left Assigned, like an agent whose executor path is wedged.
        }
        else if (_options.FaultInjection.FailWithFeature is { } bad && HasRolledOut(bad))
        {
            // Fault injection (Agent:FaultInjection:FailWithFeature): a rolled-out feature that breaks every job it touches.
            Launch(new Attempt(key, record, item.Version) { Immediate = (AttemptState.Failed, $"Fault injection: rolled-out feature {bad} is on for this agent.") });
        }
        else if (record.Slots > _options.Slots)
        {
            var error = $"The attempt needs {record.Slots} slots; this agent has {_options.Slots}.";
            AgentLog.CannotStart(_logger, key, error);
            Launch(new Attempt(key, record, item.Version) { Immediate = (AttemptState.Failed, error) });
        }
        else if (UsedSlots + Math.Max(1, record.Slots) <= _options.Slots)
        {
            Launch(new Attempt(key, record, item.Version));
        }
    }

    private int UsedSlots => _attempts.Values.Where(a => a.Immediate is null).Sum(a => a.Slots);

    /// <summary>True when the session can carry new work: connected, provably alive for more than the margin, and (feature
    /// <c>beatFence</c>) a beat sent within the beat lease acknowledged.</summary>
    private bool IsHealthy(IStoreSession session) =>
        session.State == SessionState.Connected && session.ProvablyAliveFor >= _options.EffectiveFencingMargin(session.Timeout)
        && BeatLapsed() is null;

    private AssignmentRecord? Parse(string key, StoreItem item)
    {
        if (_parsed.TryGetValue(key, out var known) && known.ModRevision == item.ModRevision)
        {
            return known.Record;
        }

        string? problem = null;
        AssignmentRecord? record = null;
        if (!StoreLayout.TryParseAssignmentName(StoreKeys.Name(key), out var jobId, out var attempt))
        {
            problem = "the key is not <jobId>.<attempt>";
        }
        else
        {
            try
            {
                record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
                if (record.JobId != jobId || record.Attempt != attempt)
                {
                    problem = $"the record names {record.JobId}.{record.Attempt}";
                    record = null;
                }
            }
            catch (JsonException e)
            {
                problem = e.Message;
            }
        }

        if (problem is not null)
        {
            AgentLog.Unparseable(_logger, key, problem);
        }

        _parsed[key] = (item.ModRevision, record);
        return record;
    }

    private static void Forget<T>(IDictionary<string, T> bookkeeping, System.Collections.Immutable.ImmutableSortedDictionary<string, StoreItem> items)
    {
        foreach (var key in bookkeeping.Keys.Where(k => !items.ContainsKey(k)).ToList())
        {
            bookkeeping.Remove(key);
        }
    }
}
