using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Director.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// Publishes the leader's pending counts to <c>status/queue</c> (<see cref="QueueStatusRecord"/>), where every
/// director reads them for admission control. Only the leader counts, so only the leader writes, fenced like every
/// leader write; the record is one small key, written at most once per <see cref="AdmissionOptions.QueueStatusInterval"/>
/// and only when a count changed, so it costs the store about one write a second under load and none when idle.
/// </summary>
/// <remarks>
/// <para>The leader's loop calls <c>PublishAsync</c> after every pass, idle passes included: a change that
/// falls inside an interval is published by the first pass after the interval. One instance serves every term (a DI
/// singleton); a new epoch starts afresh, so a new leader always writes its own record first. Calls are serialised:
/// one that finds another in progress (an abandoned loop of an earlier term) returns without writing.</para>
/// <para>The write is a put: an update of the record whatever its version (a predecessor's record is simply
/// replaced), or a create when the key is missing. A failure is logged and retried at the next interval; only the
/// loss of leadership and cancellation reach the caller.</para>
/// </remarks>
public sealed partial class QueueStatusPublisher
{
    private static readonly IReadOnlyDictionary<string, int> NoGroups = new Dictionary<string, int>(StringComparer.Ordinal);

    private readonly AdmissionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _epoch;
    private long? _lastWriteAt;
    private QueueStatusRecord? _published;
    private int _failures;
    private QueueExplanation? _explained;
    private long? _explainedAt;
    private byte[]? _content;

    /// <summary>Creates the publisher; it writes nothing until <c>PublishAsync</c> is called.</summary>
    public QueueStatusPublisher(IOptions<AdmissionOptions> options, TimeProvider time, ILogger<QueueStatusPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>The record this publisher last wrote successfully in the current term, or null.</summary>
    public QueueStatusRecord? Published => Volatile.Read(ref _published);

    /// <summary>
    /// Writes the counts of the pass just completed to <c>status/queue</c>, unless the last write of this term was
    /// less than <see cref="AdmissionOptions.QueueStatusInterval"/> ago or the record would not change.
    /// </summary>
    /// <param name="election">The leader's election: the write goes through <c>LeaderElection.FencedCommitAsync</c>.</param>
    /// <param name="epoch">The leader's epoch for this term (<see cref="Leadership.Epoch"/>); a new one starts afresh.</param>
    /// <param name="pending">Every Pending job in the pass, with or without a group.</param>
    /// <param name="pendingByGroup">Pending jobs per FIFO group (groups with none may be left out). Only read when a
    /// write is due, at most once per interval; only groups at half of <see cref="AdmissionOptions.MaxPendingPerGroup"/>
    /// or more are published.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>True when the record was written by this call.</returns>
    /// <exception cref="LeadershipLostException">This director no longer leads; nothing was written.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public ValueTask<bool> PublishAsync(
        LeaderElection election, long epoch, int pending, IReadOnlyDictionary<string, int> pendingByGroup, CancellationToken cancellationToken) =>
        PublishAsync(election, epoch, pending, pendingByGroup, null, cancellationToken);

    /// <summary>
    /// As <see cref="PublishAsync(LeaderElection, long, int, IReadOnlyDictionary{string, int}, CancellationToken)"/>, with
    /// the reasons why queued jobs were not placed (<see cref="QueueStatusRecord.Unplaced"/> and
    /// <see cref="QueueStatusRecord.GroupHeads"/>), which make the record change (and be written) like a count does.
    /// </summary>
    /// <param name="election">The leader's election: the write goes through <c>LeaderElection.FencedCommitAsync</c>.</param>
    /// <param name="epoch">The leader's epoch for this term (<see cref="Leadership.Epoch"/>); a new one starts afresh.</param>
    /// <param name="pending">Every Pending job in the pass, with or without a group.</param>
    /// <param name="pendingByGroup">Pending jobs per FIFO group, as in the other overload.</param>
    /// <param name="explain">Builds the reasons of the pass just completed; called at most once per
    /// <see cref="AdmissionOptions.QueueStatusInterval"/> (its result is reused in between), so its cost is never paid
    /// per pass. Null publishes no reasons.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>True when the record was written by this call.</returns>
    /// <exception cref="LeadershipLostException">This director no longer leads; nothing was written.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public ValueTask<bool> PublishAsync(
        LeaderElection election, long epoch, int pending, IReadOnlyDictionary<string, int> pendingByGroup, Func<QueueExplanation>? explain,
        CancellationToken cancellationToken) =>
        PublishAsync(election, epoch, pending, pendingByGroup, explain, null, cancellationToken);

    /// <summary>
    /// As <see cref="PublishAsync(LeaderElection, long, int, IReadOnlyDictionary{string, int}, Func{QueueExplanation}, CancellationToken)"/>,
    /// with the jobs per state (<see cref="QueueStatusRecord.Jobs"/>, shown by the dashboard), which make the record
    /// change like a count does: still at most one write per <see cref="AdmissionOptions.QueueStatusInterval"/>.
    /// </summary>
    /// <param name="election">The leader's election: the write goes through <c>LeaderElection.FencedCommitAsync</c>.</param>
    /// <param name="epoch">The leader's epoch for this term (<see cref="Leadership.Epoch"/>); a new one starts afresh.</param>
    /// <param name="pending">Every Pending job in the pass, with or without a group.</param>
    /// <param name="pendingByGroup">Pending jobs per FIFO group, as in the other overloads.</param>
    /// <param name="explain">Builds the reasons of the pass, as in the other overload; null publishes none.</param>
    /// <param name="jobs">Counts the jobs per state; called only when a write may be due. Null publishes none.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>True when the record was written by this call.</returns>
    /// <exception cref="LeadershipLostException">This director no longer leads; nothing was written.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public async ValueTask<bool> PublishAsync(
        LeaderElection election, long epoch, int pending, IReadOnlyDictionary<string, int> pendingByGroup, Func<QueueExplanation>? explain,
        Func<IReadOnlyDictionary<string, int>>? jobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(election);
        ArgumentNullException.ThrowIfNull(pendingByGroup);
        ArgumentOutOfRangeException.ThrowIfNegative(pending);
        if (!await _gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            if (epoch != _epoch)
            {
                _epoch = epoch;
                _lastWriteAt = null;
                _failures = 0;
                _explained = null;
                _explainedAt = null;
                _content = null;
                Volatile.Write(ref _published, null);
            }

            var now = _time.GetTimestamp();
            if (_lastWriteAt is { } last && _time.GetElapsedTime(last, now) < _options.QueueStatusInterval)
            {
                return false;
            }

            var groups = SelectGroups(pendingByGroup, _options.GroupReportThreshold);
            if (explain is not null && (_explainedAt is not { } explainedAt || _time.GetElapsedTime(explainedAt, now) >= _options.QueueStatusInterval))
            {
                // Rebuilt at most once per interval even when nothing is written (an unchanged record is not), so the
                // report's O(workers × classes) never lands on every pass.
                _explained = explain();
                _explainedAt = now;
            }

            var explained = explain is null ? QueueExplanation.None : _explained ?? QueueExplanation.None;
            var record = new QueueStatusRecord
            {
                Epoch = epoch,
                Pending = pending,
                Groups = groups,
                Unplaced = explained.Unplaced.Count > 0 ? explained.Unplaced : null,
                UnplacedOmitted = explained.UnplacedOmitted,
                GroupHeads = explained.GroupHeads.Count > 0 ? explained.GroupHeads : null,
                GroupHeadsOmitted = explained.GroupHeadsOmitted,
                ConcurrencyKeys = explained.Keys.Count > 0 ? explained.Keys : null,
                ConcurrencyKeysOmitted = explained.KeysOmitted,
                Jobs = jobs?.Invoke(),
            };

            // Compared without the time: written only when something a reader acts on changed.
            var content = ContractJson.Serialize(record);
            if (_published is not null && _content is { } previous && previous.AsSpan().SequenceEqual(content))
            {
                return false;
            }

            // The interval runs from the attempt, not the success: a failing store is asked once per interval, not per pass.
            _lastWriteAt = now;
            record = record with { At = _time.GetUtcNow() };
            try
            {
                await PutAsync(election, ContractJson.Serialize(record), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not LeadershipLostException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // Admission goes on with the last published counts; a lag is all a failure costs.
                if (++_failures == 1)
                {
                    Log.PublishFailed(_logger, e, StoreLayout.QueueStatus, epoch);
                }
                else
                {
                    Log.PublishStillFailing(_logger, StoreLayout.QueueStatus, _failures, e.Message);
                }

                return false;
            }

            if (_failures > 0)
            {
                Log.PublishRecovered(_logger, StoreLayout.QueueStatus, _failures);
                _failures = 0;
            }

            _content = content;
            Volatile.Write(ref _published, record);
            Log.Published(_logger, pending, groups.Count, epoch);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The groups worth publishing: at least <paramref name="threshold"/> pending, largest first (ties by
    /// name), at most <see cref="QueueStatusRecord.MaxGroups"/> within <see cref="QueueStatusRecord.MaxGroupBytes"/>.</summary>
    internal static IReadOnlyDictionary<string, int> SelectGroups(IReadOnlyDictionary<string, int> pendingByGroup, int? threshold)
    {
        if (threshold is not { } least)
        {
            return NoGroups;
        }

        var candidates = pendingByGroup.Where(g => g.Value >= least).ToList();
        if (candidates.Count == 0)
        {
            return NoGroups;
        }

        candidates.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        var selected = new Dictionary<string, int>(Math.Min(candidates.Count, QueueStatusRecord.MaxGroups), StringComparer.Ordinal);
        var bytes = 0;
        foreach (var (name, count) in candidates)
        {
            // The name as ContractJson writes it, plus quotes, colon, comma and up to ten digits.
            var size = JsonEncodedText.Encode(name).EncodedUtf8Bytes.Length + 14;
            if (selected.Count == QueueStatusRecord.MaxGroups || bytes + size > QueueStatusRecord.MaxGroupBytes)
            {
                break;
            }

            bytes += size;
            selected[name] = count;
        }

        return selected;
    }

    /// <summary>Unconditional put through fenced transactions: update (any version), or create when the key is missing.
    /// Updating first costs one round trip on every write but the very first one in a store's life.</summary>
    private static async Task PutAsync(LeaderElection election, byte[] value, CancellationToken cancellationToken)
    {
        var updated = await election.FencedCommitAsync(new Transaction().Update(StoreLayout.QueueStatus, value), cancellationToken).ConfigureAwait(false);
        if (updated.Succeeded)
        {
            return;
        }

        var created = await election.FencedCommitAsync(new Transaction().Create(StoreLayout.QueueStatus, value), cancellationToken).ConfigureAwait(false);
        if (!created.Succeeded)
        {
            // Deleted before the update and re-created before the create: only a hand edit does that. Next interval.
            throw new StoreException($"Neither an update nor a create of {StoreLayout.QueueStatus} applied.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 790, Level = LogLevel.Debug, Message = "Published the queue status: {Pending} pending, {Groups} group(s) listed (epoch {Epoch})")]
        public static partial void Published(ILogger logger, int pending, int groups, long epoch);

        [LoggerMessage(EventId = 791, Level = LogLevel.Warning, Message = "Could not publish {Key} (epoch {Epoch}); directors admit by the last published counts, retrying every interval")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string key, long epoch);

        [LoggerMessage(EventId = 792, Level = LogLevel.Debug, Message = "Still cannot publish {Key} ({Failures} failures in a row): {Reason}")]
        public static partial void PublishStillFailing(ILogger logger, string key, int failures, string reason);

        [LoggerMessage(EventId = 793, Level = LogLevel.Information, Message = "Published {Key} again after {Failures} failed attempt(s)")]
        public static partial void PublishRecovered(ILogger logger, string key, int failures);
    }
}
