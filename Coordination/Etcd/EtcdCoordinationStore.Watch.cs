using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Subtree watches, progress requests and waiting for a deletion.</summary>
public sealed partial class EtcdCoordinationStore
{
    /// <summary>Every running watch's inbox of progress targets.</summary>
    private readonly ConcurrentDictionary<Channel<long>, byte> _progressTargets = new();

    /// <inheritdoc />
    /// <remarks>
    /// A native etcd watch from <paramref name="afterRevision"/> + 1 (or a subtree read, a <see cref="WatchResync"/>
    /// and a watch from its revision + 1 when <paramref name="afterRevision"/> is 0). The client resumes a broken
    /// stream from the revision after the last one delivered; if that history was compacted, this watch reads the
    /// subtree again and yields a <see cref="WatchResync"/>. Each revision's events come as one
    /// <see cref="WatchChanges"/>; progress notifications come as empty ones.
    /// </remarks>
    public IAsyncEnumerable<WatchUpdate> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken = default)
    {
        StoreKeys.ValidatePrefix(prefix, nameof(prefix));
        ArgumentOutOfRangeException.ThrowIfNegative(afterRevision);
        return WatchCoreAsync(prefix, afterRevision, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Not etcd's progress request: etcd before 3.4.26 answers it with the current revision even while a watch is
    /// still catching up or has events queued (etcd-io/etcd#15220), and a consumer trusting that revision would skip
    /// those events. Instead this reads the current revision R (linearizable) and each watch of this store proves
    /// it is current up to R by comparing its range at its own revision and at R (see docs/coordination.md).
    /// </remarks>
    /// <exception cref="StoreException">etcd could not be reached.</exception>
    public async Task RequestWatchProgressAsync(CancellationToken cancellationToken = default)
    {
        var request = new RangeRequest { Key = _rootKey, CountOnly = true };
        var response = await ReadAsync(() => _client.RangeAsync(request, cancellationToken), "progress").ConfigureAwait(false);
        var revision = response.Header.Revision;
        Seen(revision);
        foreach (var watch in _progressTargets.Keys)
        {
            watch.Writer.TryWrite(revision);
        }
    }

    /// <inheritdoc />
    /// <remarks>Reads the key at revision R, then watches it from R + 1 for its deletion, so a deletion between the
    /// read and the watch is never missed.</remarks>
    public async Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var full = Full(key);
        using var rewatch = new RetryPacer(StoreRetries.EtcdRewatch, _time);
        while (true)
        {
            var request = new RangeRequest { Key = full, KeysOnly = true };
            var floor = SeenRevision;
            var read = await ReadAsync(() => _client.RangeAsync(request, cancellationToken), "get " + key).ConfigureAwait(false);
            Current(read.Header.Revision, floor, "get " + key);
            if (read.Kvs.Count == 0)
            {
                return;
            }

            try
            {
                var options = new EtcdWatchOptions { StartRevision = read.Header.Revision + 1, NoPut = true };
                var watch = await _client.WatchAsync(full, options, cancellationToken).ConfigureAwait(false);
                await using (watch.ConfigureAwait(false))
                {
                    rewatch.Reset();
                    await foreach (var batch in watch.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (batch.Events.Any(e => e.Type == Event.Types.EventType.Delete))
                        {
                            Seen(batch.Events[^1].Kv.ModRevision);
                            return;
                        }
                    }
                }
            }
            catch (EtcdCompactedException)
            {
                // History since the read is gone: read again (the key may be gone too).
            }
            catch (EtcdException ex)
            {
                try
                {
                    await rewatch.PauseAfterAsync(ex, cancellationToken).ConfigureAwait(false);
                }
                catch (EtcdException)
                {
                    throw new StoreException($"Could not watch {key} for its deletion: {ex.Message}", ex);
                }
            }
        }
    }

    private async IAsyncEnumerable<WatchUpdate> WatchCoreAsync(string prefix, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var full = _rootPrefix + prefix;
        var key = ByteString.CopyFromUtf8(full);
        // [full, full+1) covers the key, its subtree, and siblings such as "dirx" for "dir", which are filtered out.
        var options = new EtcdWatchOptions { RangeEnd = EtcdKeys.PrefixEnd(full) };
        long next;
        if (afterRevision == 0)
        {
            var (items, revision) = await ReadSubtreeAsync(full, cancellationToken).ConfigureAwait(false);
            EtcdStoreLog.WatchResync(_logger, prefix, revision, items.Count, "start");
            yield return new WatchResync(items, revision);
            next = revision + 1;
        }
        else
        {
            next = afterRevision + 1;
        }

        // Progress targets from RequestWatchProgressAsync; only the newest one matters.
        var progress = Channel.CreateBounded<long>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        _progressTargets.TryAdd(progress, 0);
        using var rewatch = new RetryPacer(StoreRetries.EtcdRewatch, _time);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var compacted = false;
                Exception? failure = null;
                EtcdWatch? watch = null;
                try
                {
                    watch = await _client.WatchAsync(key, options with { StartRevision = next }, cancellationToken).ConfigureAwait(false);
                }
                catch (EtcdCompactedException)
                {
                    compacted = true;
                }
                catch (EtcdException ex)
                {
                    failure = ex;
                }

                if (watch is not null)
                {
                    var batches = watch.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                    Task<bool>? moving = null;
                    try
                    {
                        Task<bool>? asked = null;
                        while (true)
                        {
                            moving ??= batches.MoveNextAsync().AsTask();
                            asked ??= progress.Reader.WaitToReadAsync(cancellationToken).AsTask();
                            await Task.WhenAny(moving, asked).ConfigureAwait(false);
                            if (!moving.IsCompleted)
                            {
                                asked = null;
                                cancellationToken.ThrowIfCancellationRequested();
                                if (progress.Reader.TryRead(out var target) && target >= next
                                    && await ProveProgressAsync(full, next - 1, target, cancellationToken).ConfigureAwait(false) is { } proof)
                                {
                                    next = proof.Revision + 1;
                                    Seen(proof.Revision);
                                    yield return proof;
                                }

                                continue;
                            }

                            try
                            {
                                var more = await moving.ConfigureAwait(false);
                                moving = null;
                                if (!more)
                                {
                                    failure = new StoreException("The etcd watch ended.");
                                    break;
                                }
                            }
                            catch (EtcdCompactedException)
                            {
                                moving = null;
                                compacted = true;
                                break;
                            }
                            catch (EtcdException ex)
                            {
                                moving = null;
                                failure = ex;
                                break;
                            }

                            rewatch.Reset();
                            foreach (var update in ToUpdates(batches.Current, full, ref next))
                            {
                                Seen(update.Revision);
                                yield return update;
                            }
                        }
                    }
                    finally
                    {
                        // Ending the watch first completes a pending read, so the enumerator can be disposed.
                        await watch.DisposeAsync().ConfigureAwait(false);
                        if (moving is not null)
                        {
                            await ObserveAsync(moving).ConfigureAwait(false);
                        }

                        await batches.DisposeAsync().ConfigureAwait(false);
                    }
                }

                if (compacted)
                {
                    // The history this watch needs is gone: replace the consumer's state, then follow from there.
                    var (items, revision) = await ReadSubtreeAsync(full, cancellationToken).ConfigureAwait(false);
                    EtcdStoreLog.WatchResync(_logger, prefix, revision, items.Count, $"revision {next} was compacted");
                    yield return new WatchResync(items, revision);
                    next = revision + 1;
                    continue;
                }

                // Never silent: retry from where we are, and report the failure if it persists.
                EtcdStoreLog.WatchRestarting(_logger, failure!, prefix, next);
                try
                {
                    await rewatch.PauseAfterAsync(failure!, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex == failure)
                {
                    throw new StoreException(
                        $"The watch of {prefix} failed {StoreRetries.EtcdRewatch.MaxRetryAttempts + 1} times in a row: {failure.Message}", failure);
                }
            }
        }
        finally
        {
            _progressTargets.TryRemove(progress, out _);
        }
    }

    /// <summary>
    /// Proves that a consumer holding the range's state at <paramref name="delivered"/> holds its state at
    /// <paramref name="target"/>: no key in the range at the target was modified after <paramref name="delivered"/>,
    /// and the range holds as many keys at both revisions (so none was deleted). Then every event in between cancels
    /// out, and the watch drops them. Null when events are still to come (or etcd could not answer); a resync when the
    /// delivered revision was compacted and cannot be compared.
    /// </summary>
    private async Task<WatchUpdate?> ProveProgressAsync(string full, long delivered, long target, CancellationToken cancellationToken)
    {
        var key = ByteString.CopyFromUtf8(full);
        var end = EtcdKeys.PrefixEnd(full);
        try
        {
            // keys_only, not count_only: etcd 3.4 applies min_mod_revision to the keys but not to the count.
            var changed = await _client.RangeAsync(
                new RangeRequest { Key = key, RangeEnd = end, Revision = target, MinModRevision = delivered + 1, KeysOnly = true, Limit = 1 },
                cancellationToken).ConfigureAwait(false);
            if (changed.Kvs.Count > 0)
            {
                return null;
            }

            var before = await _client.RangeAsync(new RangeRequest { Key = key, RangeEnd = end, Revision = delivered, CountOnly = true }, cancellationToken)
                .ConfigureAwait(false);
            var after = await _client.RangeAsync(new RangeRequest { Key = key, RangeEnd = end, Revision = target, CountOnly = true }, cancellationToken)
                .ConfigureAwait(false);
            return before.Count == after.Count ? new WatchChanges([], target) : null;
        }
        catch (EtcdCompactedException)
        {
            var (items, revision) = await ReadSubtreeAsync(full, cancellationToken).ConfigureAwait(false);
            return new WatchResync(items, revision);
        }
        catch (Exception ex) when (ex is EtcdException or StoreException)
        {
            return null; // the consumer asks again
        }
    }

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EtcdException or OperationCanceledException or ObjectDisposedException)
        {
            // The watch is being torn down; its outcome no longer matters.
        }
    }

    /// <summary>Turns one etcd batch into updates: one <see cref="WatchChanges"/> per revision, or a progress report.
    /// Advances <paramref name="next"/> past what was delivered.</summary>
    private List<WatchUpdate> ToUpdates(EtcdWatchBatch batch, string full, ref long next)
    {
        var updates = new List<WatchUpdate>();
        // This store never asks etcd for progress (see RequestWatchProgressAsync), so no notification is trusted.
        if (batch.IsProgressNotification)
        {
            return updates;
        }

        var i = 0;
        while (i < batch.Events.Count)
        {
            var revision = batch.Events[i].Kv.ModRevision;
            if (revision < next)
            {
                // Covered by a proven progress report (these events cancel out) or already delivered before a resume.
                i++;
                continue;
            }

            var changes = new List<StoreChange>();
            for (; i < batch.Events.Count && batch.Events[i].Kv.ModRevision == revision; i++)
            {
                var kv = batch.Events[i].Kv;
                if (!InSubtree(kv.Key.Span, full))
                {
                    continue;
                }

                changes.Add(batch.Events[i].Type == Event.Types.EventType.Delete
                    ? new StoreChange(ChangeKind.Delete, Relative(kv.Key), null, revision)
                    : new StoreChange(ChangeKind.Put, Relative(kv.Key), ToItem(kv), revision));
            }

            // Filtered-out siblings still prove progress: etcd delivers every revision of the range in order.
            updates.Add(new WatchChanges(changes, revision));
            next = revision + 1;
        }

        return updates;
    }
}
