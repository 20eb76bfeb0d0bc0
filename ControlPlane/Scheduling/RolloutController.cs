using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Director.Api;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// The cell leader's owner of its progressive feature rollouts (docs/cells.md, "Progressive feature rollout"), for one term.
/// The scheduling loop tells it every attempt result it commits (<see cref="Observe"/>: the worker, whether the worker
/// advertised which features, and whether the attempt failed); every <see cref="SchedulerOptions.RolloutInterval"/> it lists
/// the cell's <c>rollouts/</c>, judges each running rollout's step from the counts since the step started
/// (<see cref="RolloutTransitions.Judge"/>) and writes an advance, completion or halt fenced by the leader's candidate key
/// and conditioned on the record's version. Counts live in memory: a new leader counts the current step afresh (its
/// start time, in the record, stays), so a leader change delays a judgement, never skews it.
/// </summary>
/// <remarks>Cost: <see cref="Observe"/> is O(running rollouts) per finished attempt, under a lock; a round is one listing of
/// the cell's rollouts and at most one write per rollout that changes.</remarks>
internal sealed partial class RolloutController
{
    private readonly ICoordinationStore _store;
    private readonly LeaderElection _election;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Tally> _tallies = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unreadable = new(StringComparer.Ordinal);

    /// <summary>Creates the controller of one term.</summary>
    /// <param name="store">The cell's view of the scheduler's connection.</param>
    /// <param name="election">The cell's election: every write is fenced by its candidate key.</param>
    /// <param name="interval">Time between two rounds.</param>
    /// <param name="logger">Logs.</param>
    /// <param name="time">The leader's clock.</param>
    public RolloutController(ICoordinationStore store, LeaderElection election, TimeSpan interval, ILogger logger, TimeProvider time)
    {
        _store = store;
        _election = election;
        _interval = interval;
        _logger = logger;
        _time = time;
    }

    /// <summary>Counts one attempt result of the cell's jobs for every running rollout: in the group with the feature when
    /// <paramref name="features"/> (the worker's advertised features when the leader judged the result) lists it.</summary>
    /// <param name="features">The worker's advertised features; null when its registration is gone.</param>
    /// <param name="failed">True for an attempt that failed (the job's own failure), false for one that succeeded.</param>
    public void Observe(IReadOnlyList<string>? features, bool failed)
    {
        lock (_gate)
        {
            foreach (var tally in _tallies.Values)
            {
                tally.Add(features?.Contains(tally.Feature, StringComparer.Ordinal) == true, failed);
            }
        }
    }

    /// <summary>Judges the rollouts every interval until the term ends.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Not a retry: the controller's period (a failed round waits for the next one).
                await Task.Delay(_interval, _time, cancellationToken).ConfigureAwait(false);
                await RoundAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (LeadershipLostException)
            {
                return; // the term ends; the next leader resumes from the records
            }
            catch (Exception e) when (e is StoreException or OperationCanceledException)
            {
                Log.RoundFailed(_logger, e);
            }
        }
    }

    /// <summary>One round: reads the records, keeps a tally for each running step, and writes the steps judged.</summary>
    internal async Task RoundAsync(CancellationToken cancellationToken)
    {
        var items = await StoreReads.ListAllAsync(_store, StoreLayout.Rollouts, cancellationToken).ConfigureAwait(false);
        var running = new List<(StoreItem Item, RolloutRecord Record)>();
        foreach (var item in items)
        {
            if (Parse(item) is { State: RolloutState.Running } record)
            {
                running.Add((item, record));
            }
        }

        var judged = new List<(StoreItem Item, RolloutRecord Record, RolloutCounts With, RolloutCounts Without)>();
        lock (_gate)
        {
            foreach (var gone in _tallies.Keys.Where(f => !running.Any(r => r.Record.Feature == f)).ToList())
            {
                _tallies.Remove(gone);
            }

            foreach (var (item, record) in running)
            {
                if (!_tallies.TryGetValue(record.Feature, out var tally) || !tally.Counts(record))
                {
                    // A new step (or the first this term sees): count from now on.
                    _tallies[record.Feature] = new Tally(record);
                    continue;
                }

                judged.Add((item, record, tally.With, tally.Without));
            }
        }

        var now = _time.GetUtcNow();
        foreach (var (item, record, with, without) in judged)
        {
            var decision = RolloutTransitions.Judge(record, with, without, now);
            var next = decision.Verdict switch
            {
                RolloutVerdict.Advance => RolloutTransitions.Advance(record, with, without, now),
                RolloutVerdict.Halt => RolloutTransitions.Halt(record, decision.Reason, with, without, now),
                _ => null,
            };
            if (next is null)
            {
                continue;
            }

            var result = await _election.FencedCommitAsync(
                new Transaction().Update(item.Key, ContractJson.Serialize(next), item.Version), _store, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                // An operator halted it, or it was deleted or restarted meanwhile: the next round reads it again.
                Log.WriteRefused(_logger, record.Feature);
                continue;
            }

            if (decision.Verdict == RolloutVerdict.Halt)
            {
                Log.Halted(_logger, record.Feature, decision.Reason);
            }
            else
            {
                Log.Advanced(_logger, record.Feature, next.Share, next.State.ToString(), decision.Reason);
            }
        }
    }

    private RolloutRecord? Parse(StoreItem item)
    {
        try
        {
            var record = ContractJson.Deserialize<RolloutRecord>(item.Value.Span);
            if (RolloutShares.FeatureProblem(record.Feature) is null && StoreKeys.Name(item.Key) == record.Feature && record.Steps.Count > 0)
            {
                _unreadable.Remove(item.Key);
                return record;
            }
        }
        catch (JsonException)
        {
            // Logged once below, and left alone.
        }

        if (_unreadable.Add(item.Key))
        {
            Log.Unreadable(_logger, item.Key);
        }

        return null;
    }

    /// <summary>Jobs finished in one step of one rollout, since this term first saw the step.</summary>
    private sealed class Tally(RolloutRecord step)
    {
        private int _withSucceeded;
        private int _withFailed;
        private int _withoutSucceeded;
        private int _withoutFailed;

        public string Feature { get; } = step.Feature;

        public RolloutCounts With => new(_withSucceeded, _withFailed);

        public RolloutCounts Without => new(_withoutSucceeded, _withoutFailed);

        /// <summary>Whether this tally counts <paramref name="record"/>'s current step.</summary>
        public bool Counts(RolloutRecord record) => record.Step == step.Step && record.StepStartedAt == step.StepStartedAt && record.StartedAt == step.StartedAt;

        public void Add(bool with, bool failed)
        {
            if (with)
            {
                _ = failed ? _withFailed++ : _withSucceeded++;
            }
            else
            {
                _ = failed ? _withoutFailed++ : _withoutSucceeded++;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Rollout {Feature} halted: {Reason}")]
        public static partial void Halted(ILogger logger, string feature, string reason);

        [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "Rollout {Feature} now at {Share} % ({State}): {Reason}")]
        public static partial void Advanced(ILogger logger, string feature, int share, string state, string reason);

        [LoggerMessage(EventId = 1603, Level = LogLevel.Information, Message = "Rollout {Feature} changed while it was judged; judging it again next round")]
        public static partial void WriteRefused(ILogger logger, string feature);

        [LoggerMessage(EventId = 1604, Level = LogLevel.Warning, Message = "The rollout record {Key} cannot be read; it is left alone")]
        public static partial void Unreadable(ILogger logger, string key);

        [LoggerMessage(EventId = 1605, Level = LogLevel.Warning, Message = "A round of the rollout controller failed; trying again next round")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
