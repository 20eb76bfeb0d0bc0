using System.Runtime.CompilerServices;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Coordination.Etcd;

/// <summary>Subtree watches, progress requests and waiting for a deletion.</summary>
public sealed partial class EtcdCoordinationStore
{
    /// <summary>Consecutive failed attempts to (re)create a watch before the failure is reported to the consumer.</summary>
    private const int MaxWatchFailures = 10;

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
        StoreKeys.Validate(prefix, nameof(prefix));
        ArgumentOutOfRangeException.ThrowIfNegative(afterRevision);
        return WatchCoreAsync(prefix, afterRevision, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>etcd answers on the client's shared watch stream: every watch of this store gets a progress report.</remarks>
    /// <exception cref="StoreException">No watch stream is open right now (none was created, or it is reconnecting).</exception>
    public async Task RequestWatchProgressAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.RequestWatchProgressAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EtcdException or IOException or HttpRequestException or InvalidOperationException)
        {
            throw new StoreException($"Could not request watch progress: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>Reads the key at revision R, then watches it from R + 1 for its deletion, so a deletion between the
    /// read and the watch is never missed.</remarks>
    public async Task WaitForDeletionAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var full = Full(key);
        var failures = 0;
        while (true)
        {
            var request = new RangeRequest { Key = full, KeysOnly = true };
            var read = await ReadAsync(() => _client.RangeAsync(request, cancellationToken), "get " + key).ConfigureAwait(false);
            Seen(read.Header.Revision);
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
                    failures = 0;
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
                if (++failures >= MaxWatchFailures)
                {
                    throw new StoreException($"Could not watch {key} for its deletion: {ex.Message}", ex);
                }

                await Task.Delay(RetryDelay(failures), _time, cancellationToken).ConfigureAwait(false);
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

        var failures = 0;
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
                try
                {
                    while (true)
                    {
                        try
                        {
                            if (!await batches.MoveNextAsync().ConfigureAwait(false))
                            {
                                failure = new StoreException("The etcd watch ended.");
                                break;
                            }
                        }
                        catch (EtcdCompactedException)
                        {
                            compacted = true;
                            break;
                        }
                        catch (EtcdException ex)
                        {
                            failure = ex;
                            break;
                        }

                        failures = 0;
                        foreach (var update in ToUpdates(batches.Current, full, ref next))
                        {
                            Seen(update.Revision);
                            yield return update;
                        }
                    }
                }
                finally
                {
                    await batches.DisposeAsync().ConfigureAwait(false);
                    await watch.DisposeAsync().ConfigureAwait(false);
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
            failures++;
            EtcdStoreLog.WatchRestarting(_logger, failure!, prefix, next);
            if (failures >= MaxWatchFailures)
            {
                throw new StoreException($"The watch of {prefix} failed {failures} times in a row: {failure!.Message}", failure);
            }

            await Task.Delay(RetryDelay(failures), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Turns one etcd batch into updates: one <see cref="WatchChanges"/> per revision, or a progress report.
    /// Advances <paramref name="next"/> past what was delivered.</summary>
    private List<WatchUpdate> ToUpdates(EtcdWatchBatch batch, string full, ref long next)
    {
        var updates = new List<WatchUpdate>();
        if (batch.IsProgressNotification)
        {
            // A progress report never takes the consumer back, even if etcd reports an older revision.
            var reached = Math.Max(batch.Revision, next - 1);
            next = reached + 1;
            updates.Add(new WatchChanges([], reached));
            return updates;
        }

        var i = 0;
        while (i < batch.Events.Count)
        {
            var revision = batch.Events[i].Kv.ModRevision;
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

    private static TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(50 * (1 << Math.Min(failures, 5)), 1000) * (0.5 + (Random.Shared.NextDouble() / 2)));
}
