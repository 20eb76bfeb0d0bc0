using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>How a drain request ended.</summary>
internal enum DrainResult
{
    /// <summary>The drain record exists now (written by this request or an earlier one).</summary>
    Accepted,

    /// <summary>No worker is registered under the id.</summary>
    NotFound,
}

/// <summary>How an undrain request ended.</summary>
internal enum UndrainResult
{
    /// <summary>No drain record exists now (this request deleted it, or there was none for a registered worker).</summary>
    Accepted,

    /// <summary>No worker is registered under the id and no drain record is left for it.</summary>
    NotFound,
}

/// <summary>What to list.</summary>
/// <param name="Limit">Most workers in the page.</param>
/// <param name="Cursor">Where to resume; null for the first page.</param>
/// <param name="MinRevision">Read state at least this new (read-your-writes across directors).</param>
internal sealed record WorkerQuery(int Limit, WorkerCursor? Cursor, long? MinRevision = null);

/// <summary>
/// Workers as the store shows them: registrations under <c>workers/</c> with the load their agents report
/// (<see cref="WorkerRecord.SlotsUsed"/>), and drain or suspect markers. Drain requests are records any director may
/// write; the agent acts on them.
/// </summary>
/// <remarks>
/// A page costs three store lists, made together, whatever the number of workers: the page of <c>workers/</c>, and
/// <c>drains/</c> and <c>suspects/</c> from the same position in the key order (both are keyed by worker id). Within
/// a page's id range there is at most one marker of each kind per listed worker, plus markers of workers that are
/// gone (the leader deletes a departed worker's suspect marker on its next pass; a drain record outlives its worker
/// only when the agent died while draining), so the marker lists read <see cref="MarkerSlack"/> more than the page. If
/// one is still cut short, the page ends where it ended, and the cursor resumes there: a page may be short (even
/// empty) with a cursor, never wrong and never an unbounded read.
/// </remarks>
internal sealed class WorkerQueries(StoreConnection connection, TimeProvider time, DirectorIdentity identity, ILogger<WorkerQueries> logger)
{
    /// <summary>Default page size.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Largest page size.</summary>
    public const int MaxLimit = 500;

    /// <summary>Markers read beyond the page size: room for markers of departed workers in the page's range.</summary>
    public const int MarkerSlack = 100;

    private const int MaxAttempts = 3;

    // store.write.unknown: a drain or undrain whose answer was lost is repeated unchanged (twice); the repeat is the
    // read-back (see each method).
    private readonly Polly.ResiliencePipeline _repeat =
        StoreRetries.RepeatUnknownOutcome(time, MaxAttempts);

    /// <summary>Every cell's workers (docs/cells.md), merged in id order, each with its cell; the cursor resumes after the
    /// last id returned in every cell. One cell costs what it cost before cells.</summary>
    public async Task<WorkerPage> ListAsync(WorkerQuery query, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var cells = await CellRegistry.ListAsync(store, cancellationToken);
        if (cells.Count == 1)
        {
            return await ListAsync(store, query, cancellationToken);
        }

        var (items, resume, revision) = await CellReads.ListEveryCellAsync(
            store, cells, query.MinRevision, query.Limit,
            async cellStore =>
            {
                var page = await ListAsync(cellStore, query with { MinRevision = null }, cancellationToken);
                var next = page.Cursor is null ? null : WorkerCursor.TryDecode(page.Cursor, out var decoded) ? decoded!.LastId : null;
                return (page.Items, next, page.Revision);
            },
            v => v.Id,
            cancellationToken);
        return new WorkerPage([.. items.Select(i => i.Item with { Cell = i.Cell })], resume is null ? null : new WorkerCursor(resume).Encode(), revision);
    }

    /// <summary>Lists through <paramref name="store"/> (the connected store; a parameter so tests can pass their own).</summary>
    internal async Task<WorkerPage> ListAsync(ICoordinationStore store, WorkerQuery query, CancellationToken cancellationToken)
    {
        if (query.MinRevision is { } wanted)
        {
            await store.SyncAsync(wanted, cancellationToken);
        }

        var after = query.Cursor?.LastId;
        var markers = new ListOptions(query.Limit + MarkerSlack, after);
        var workersRead = store.ListAsync(StoreLayout.Workers, new ListOptions(query.Limit, after), cancellationToken);
        var drainsRead = store.ListAsync(StoreLayout.Drains, markers, cancellationToken);
        var suspectsRead = store.ListAsync(StoreLayout.Suspects, markers, cancellationToken);
        await Task.WhenAll(workersRead, drainsRead, suspectsRead);
        var (workers, drains, suspects) = (workersRead.Result, drainsRead.Result, suspectsRead.Result);

        // A marker list cut short covers ids up to its Next only: the page must end there too.
        string? bound = null;
        foreach (var page in (StorePage[])[drains, suspects])
        {
            if (page.Next is { } next && (bound is null || string.CompareOrdinal(next, bound) < 0))
            {
                bound = next;
            }
        }

        var drained = drains.Items.Select(StoreReads.Name).ToHashSet(StringComparer.Ordinal);
        var suspected = suspects.Items.ToDictionary(StoreReads.Name, ReadSuspect, StringComparer.Ordinal);
        var views = new List<WorkerView>(workers.Items.Count);
        var truncated = false;
        foreach (var item in workers.Items)
        {
            var id = StoreReads.Name(item);
            if (bound is not null && string.CompareOrdinal(id, bound) > 0)
            {
                truncated = true;
                break;
            }

            if (View(item, id, drained, suspected) is { } view)
            {
                views.Add(view);
            }
        }

        var cursor = truncated ? bound : workers.Next;
        var revision = Math.Min(workers.Revision, Math.Min(drains.Revision, suspects.Revision));
        return new WorkerPage(views, cursor is null ? null : new WorkerCursor(cursor).Encode(), revision);
    }

    /// <summary>A suspect marker's record; an unreadable one still marks the worker suspect (with no details).</summary>
    public static SuspectRecord ReadSuspect(StoreItem item)
    {
        try
        {
            return ContractJson.Deserialize<SuspectRecord>(item.Value.Span);
        }
        catch (JsonException)
        {
            return new SuspectRecord { Reason = "the suspect record cannot be read" };
        }
    }

    private WorkerView? View(StoreItem item, string id, HashSet<string> drained, Dictionary<string, SuspectRecord> suspected)
    {
        WorkerRecord worker;
        try
        {
            worker = ContractJson.Deserialize<WorkerRecord>(item.Value.Span);
        }
        catch (JsonException e)
        {
            // One unreadable registration must not make every page that holds it fail; it is logged and left out.
            Log.UnreadableRecord(logger, e, item.Key);
            return null;
        }

        return ToView(worker, id, drained.Contains(id), suspected.GetValueOrDefault(id));
    }

    /// <summary>The API's view of a registration: what <c>GET /v1/workers</c> lists and the event stream sends.</summary>
    /// <param name="worker">The registration record.</param>
    /// <param name="id">The worker id (the key's name).</param>
    /// <param name="drainRequested">A <c>drains/&lt;id&gt;</c> record exists.</param>
    /// <param name="suspect">A <c>suspects/&lt;id&gt;</c> record exists.</param>
    public static WorkerView ToView(WorkerRecord worker, string id, bool drainRequested, SuspectRecord? suspect)
    {
        // The order is the scheduler's: a worker it cannot speak to at all says so before anything else.
        var state = worker.ProtocolVersion is < Protocol.MinProtocolVersion or > Protocol.Version ? WorkerState.UnsupportedProtocol
            : worker.Draining || drainRequested ? WorkerState.Draining
            : suspect is not null ? WorkerState.Suspect
            : WorkerState.Ready;
        return new WorkerView
        {
            Id = id,
            Host = worker.Host,
            Labels = worker.Labels,
            Slots = worker.Slots,
            // An agent without workerHeartbeat does not say: null rather than one more store read per worker.
            SlotsUsed = worker.SlotsUsed,
            HeartbeatAt = worker.HeartbeatAt,
            Version = worker.Version,
            ProtocolVersion = worker.ProtocolVersion,
            Capabilities = new WorkerCapabilities(worker.Executors, worker.Features),
            State = StateName(state),
            StartedAt = worker.StartedAt,
            SuspectReason = suspect?.Reason,
            SuspectKind = suspect is null ? null : suspect.Kind.Length > 0 ? suspect.Kind : null,
            SuspectLevel = suspect?.Level,
            SuspectSince = suspect is null || suspect.Since == default ? null : suspect.Since,
        };
    }

    /// <summary>
    /// Deletes <c>drains/&lt;id&gt;</c>, the one record a drain request is: the agent takes a drain back while its
    /// attempts are still finishing (docs/agent.md "Drain"). Also removes a request left behind by an agent that died
    /// while draining. Returns the revision the change is visible at.
    /// </summary>
    /// <summary>A worker state as the API, cpctl and the metrics name it: camelCase (<c>unsupportedProtocol</c>).</summary>
    public static string StateName(WorkerState state)
    {
        var name = state.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    public async Task<(UndrainResult Result, long Revision)> UndrainAsync(string workerId, CancellationToken cancellationToken)
    {
        var root = await connection.GetAsync(cancellationToken);
        if (await CellReads.FindWorkerCellAsync(root, workerId, cancellationToken) is not { } cell)
        {
            return (UndrainResult.NotFound, root.SeenRevision);
        }

        var store = root.ForCell(cell);
        var transaction = new Transaction()
            .RequireExists(StoreLayout.Drain(workerId))
            .Delete(StoreLayout.Drain(workerId));
        // The repeat after a lost answer either deletes the record or finds it gone (index 0): both mean the drain is withdrawn.
        var result = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(transaction, ct), cancellationToken);
        if (result.Succeeded)
        {
            Log.UndrainRequested(logger, workerId);
            return (UndrainResult.Accepted, result.Revision);
        }

        // No drain record: nothing to take back, for a worker that is registered.
        var registered = await store.GetAsync(StoreLayout.Worker(workerId), cancellationToken) is not null;
        return (registered ? UndrainResult.Accepted : UndrainResult.NotFound, Math.Max(result.Revision, store.SeenRevision));
    }

    /// <summary>Writes <c>drains/&lt;id&gt;</c> if the worker is registered; returns the revision the drain is visible at.</summary>
    public async Task<(DrainResult Result, long Revision)> DrainAsync(string workerId, CancellationToken cancellationToken)
    {
        var root = await connection.GetAsync(cancellationToken);
        if (await CellReads.FindWorkerCellAsync(root, workerId, cancellationToken) is not { } cell)
        {
            return (DrainResult.NotFound, root.SeenRevision);
        }

        var store = root.ForCell(cell);
        var record = new DrainRecord { RequestedAt = time.GetUtcNow(), RequestedBy = identity.Id };
        var transaction = new Transaction()
            .RequireExists(StoreLayout.Worker(workerId))
            .Create(StoreLayout.Drain(workerId), ContractJson.Serialize(record));
        // Not a retry of a failure: a round whose refusal the store could not explain looks, then writes again.
        for (var round = 1; ; round++)
        {
            // The repeat after a lost answer either writes the record or finds it (index 1): both mean the drain is requested.
            var result = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(transaction, ct), cancellationToken);
            if (result.Succeeded)
            {
                Log.DrainRequested(logger, workerId);
                return (DrainResult.Accepted, result.Revision);
            }

            if (result.FailedIndex == 0)
            {
                return (DrainResult.NotFound, result.Revision);
            }

            if (result.FailedIndex == 1)
            {
                return (DrainResult.Accepted, result.Revision);
            }

            // The store could not say which check failed: look.
            var registered = await store.GetAsync(StoreLayout.Worker(workerId), cancellationToken) is not null;
            var drained = await store.GetAsync(StoreLayout.Drain(workerId), cancellationToken) is not null;
            if (drained || !registered || round >= MaxAttempts)
            {
                return (drained ? DrainResult.Accepted : DrainResult.NotFound, store.SeenRevision);
            }
        }
    }
}
