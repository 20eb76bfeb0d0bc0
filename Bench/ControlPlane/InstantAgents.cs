using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The running half of simulated agents (<see cref="SimulatedAgents"/> registers them): a watch of
/// <c>assignments/</c> from the bench process that reports every new attempt Succeeded at once, as its agent would
/// (one update of the assignment record, conditioned on the version the leader wrote), so the leader folds it in its
/// next pass. Jobs then take no time to run: what a scenario measures is the control plane's own cycle (place, report,
/// fold, and for Waiting jobs release). Disposing stops the watch and the writers.
/// </summary>
internal sealed class InstantAgents : IAsyncDisposable
{
    /// <summary>Reports in flight at once (the store's client pipelines them on one connection).</summary>
    private const int Writers = 32;

    private readonly ICoordinationStore _store;
    private readonly Func<AssignmentRecord, bool> _finishes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<StoreItem> _assigned = Channel.CreateUnbounded<StoreItem>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly List<Task> _tasks = [];
    private long _finished;
    private long _failed;

    private InstantAgents(ICoordinationStore store, Func<AssignmentRecord, bool> finishes)
    {
        _store = store;
        _finishes = finishes;
    }

    /// <summary>Attempts reported Succeeded so far (writes the store accepted).</summary>
    public long Finished => Interlocked.Read(ref _finished);

    /// <summary>Reports the store did not answer (those attempts stay Assigned; a run with any is suspect).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Connects to <paramref name="target"/> and starts finishing every attempt assigned from now on, or
    /// only those <paramref name="finishes"/> accepts (the others run for ever, holding their slots).</summary>
    public static async Task<InstantAgents> StartAsync(StoreTarget target, CancellationToken cancellationToken, Func<AssignmentRecord, bool>? finishes = null)
    {
        var store = await RawStoreWrites.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        var agents = new InstantAgents(store, finishes ?? (_ => true));
        // The watch starts at the store's revision now: attempts assigned before are not this run's.
        var after = (await store.ListAsync(StoreLayout.Assignments, new ListOptions(1), cancellationToken).ConfigureAwait(false)).Revision;
        agents._tasks.Add(agents.WatchAsync(after));
        agents._tasks.AddRange(Enumerable.Range(0, Writers).Select(_ => agents.ReportAsync()));
        return agents;
    }

    private async Task WatchAsync(long after)
    {
        try
        {
            await foreach (var update in _store.WatchAsync(StoreLayout.Assignments, after, _stop.Token).ConfigureAwait(false))
            {
                var items = update switch
                {
                    WatchChanges changes => changes.Changes.Where(c => c.Item is not null).Select(c => c.Item!),
                    WatchResync resync => resync.Items,
                    _ => [],
                };
                foreach (var item in items)
                {
                    // Only the leader's new attempts: an assignment directory (ZooKeeper) has no record, and our own
                    // report comes back through the watch too.
                    if (item.Value.Length > 0 && ContractJson.Deserialize<AssignmentRecord>(item.Value.Span) is { State: AttemptState.Assigned } record && _finishes(record))
                    {
                        _assigned.Writer.TryWrite(item);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            _assigned.Writer.TryComplete();
        }
    }

    private async Task ReportAsync()
    {
        try
        {
            await foreach (var item in _assigned.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                var record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
                var now = DateTimeOffset.UtcNow;
                var report = record with { State = AttemptState.Succeeded, ExitCode = 0, StartedAt = now, FinishedAt = now };
                try
                {
                    // Refused when the leader took the attempt back or a resync showed it twice: not ours to report then.
                    var result = await _store.CommitAsync(new Transaction().Update(item.Key, ContractJson.Serialize(report), item.Version), _stop.Token)
                        .ConfigureAwait(false);
                    if (result.Succeeded)
                    {
                        Interlocked.Increment(ref _finished);
                    }
                }
                catch (StoreException)
                {
                    // A store that did not answer (an agent would retry on its next beat): counted, the attempt stays Assigned.
                    Interlocked.Increment(ref _failed);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_tasks).ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
