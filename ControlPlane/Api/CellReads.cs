using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>Finding things across cells (docs/cells.md): a job or a worker is looked for in every cell, default first,
/// so a lookup by id costs at most one read per cell.</summary>
internal static class CellReads
{
    /// <summary>The cell holding job <paramref name="jobId"/> and its item, or null when no cell has it.</summary>
    public static async Task<(string Cell, StoreItem Item)?> FindJobAsync(ICoordinationStore store, string jobId, CancellationToken cancellationToken)
    {
        var key = StoreLayout.Job(jobId);
        // The default cell first, before the registry is read: with one cell a lookup costs what it cost before cells.
        if (await store.GetAsync(key, cancellationToken) is { } item)
        {
            return (Cells.Default, item);
        }

        foreach (var cell in (await CellRegistry.ListAsync(store, cancellationToken)).Where(c => c != Cells.Default))
        {
            if (await store.ForCell(cell).GetAsync(key, cancellationToken) is { } found)
            {
                return (cell, found);
            }
        }

        return null;
    }

    /// <summary>The cell where worker <paramref name="workerId"/> is registered, or where a drain record for it is left;
    /// null when none.</summary>
    public static async Task<string?> FindWorkerCellAsync(ICoordinationStore store, string workerId, CancellationToken cancellationToken)
    {
        var cells = await CellRegistry.ListAsync(store, cancellationToken);
        if (cells.Count == 1)
        {
            return Cells.Default;
        }

        foreach (var key in (string[])[StoreLayout.Worker(workerId), StoreLayout.Drain(workerId)])
        {
            foreach (var cell in cells)
            {
                if (await store.ForCell(cell).GetAsync(key, cancellationToken) is not null)
                {
                    return cell;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// One listing page across <paramref name="cells"/>: waits once for <paramref name="minRevision"/>, reads one page in
    /// every cell with <paramref name="readPage"/> (given the cell's view), and merges them (<see cref="Merge{T}"/>). Costs
    /// one page read per cell; the page's revision is the lowest any cell was read at.
    /// </summary>
    /// <returns>The items with their cells, the key to resume after (null on the last page), and the revision.</returns>
    public static async Task<(List<(string Cell, T Item)> Items, string? Next, long Revision)> ListEveryCellAsync<T>(
        ICoordinationStore store, IReadOnlyList<string> cells, long? minRevision, int limit,
        Func<ICoordinationStore, Task<(IReadOnlyList<T> Items, string? Next, long Revision)>> readPage,
        Func<T, string> keyOf, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(readPage);
        if (minRevision is { } wanted)
        {
            await store.SyncAsync(wanted, cancellationToken);
        }

        var pages = new List<(string Cell, IReadOnlyList<T> Items, string? Next)>(cells.Count);
        var revision = long.MaxValue;
        foreach (var cell in cells)
        {
            var (items, next, read) = await readPage(store.ForCell(cell));
            revision = Math.Min(revision, read);
            pages.Add((cell, items, next));
        }

        var (merged, resume) = Merge(pages, limit, keyOf);
        return (merged, resume, revision);
    }

    /// <summary>
    /// Merges one page per cell, each in key order and each with the key it was read up to (null when the cell has
    /// nothing more), into one page of at most <paramref name="limit"/> items in key order: the page ends at the lowest key
    /// a cell was read up to, so no cell's item beyond what was read can be skipped, and its resume key is the last item
    /// returned (or that bound). Items with equal keys in two cells at a page's end may be split across pages.
    /// </summary>
    /// <returns>The items with their cells, and the key to resume after (null on the last page).</returns>
    public static (List<(string Cell, T Item)> Items, string? Next) Merge<T>(
        IReadOnlyList<(string Cell, IReadOnlyList<T> Items, string? Next)> pages, int limit, Func<T, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(pages);
        ArgumentNullException.ThrowIfNull(keyOf);
        string? bound = null;
        foreach (var page in pages)
        {
            if (page.Next is { } next && (bound is null || string.CompareOrdinal(next, bound) < 0))
            {
                bound = next;
            }
        }

        var merged = pages
            .SelectMany(p => p.Items.Select(i => (p.Cell, Item: i, Key: keyOf(i))))
            .Where(i => bound is null || string.CompareOrdinal(i.Key, bound) <= 0)
            .OrderBy(i => i.Key, StringComparer.Ordinal).ThenBy(i => i.Cell, StringComparer.Ordinal)
            .ToList();
        if (merged.Count > limit)
        {
            var page = merged.Take(limit).ToList();
            return ([.. page.Select(i => (i.Cell, i.Item))], page[^1].Key);
        }

        return ([.. merged.Select(i => (i.Cell, i.Item))], bound);
    }
}

/// <summary>
/// Routes a job that names no cell (docs/cells.md): to the cells whose live, undrained workers could take it (executor,
/// features, labels its constraints ask for, slots), the one with fewest pending jobs first (its leader's
/// <c>status/queue</c>), the default cell on a tie; to the default cell when none can, or when the job has
/// dependencies, a concurrency key or a FIFO group (their guarantees hold within a cell). What it reads is kept for a
/// second and the jobs it routes meanwhile are counted in, so a burst costs one read per cell a second, not per job.
/// </summary>
internal sealed class CellRouter(TimeProvider time)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Snapshot? _snapshot;

    /// <summary>The cell for <paramref name="spec"/>.</summary>
    public async Task<string> RouteAsync(ICoordinationStore store, JobSpec spec, CancellationToken cancellationToken)
    {
        if (spec.DependsOn is { Count: > 0 } || spec.Concurrency is not null || spec.Group is not null)
        {
            return Cells.Default;
        }

        var snapshot = await SnapshotAsync(store, cancellationToken);
        if (snapshot.Cells.Count == 1)
        {
            return Cells.Default;
        }

        var features = JobSpecValidator.RequiredFeatures(spec).ToList();
        CellLoad? best = null;
        foreach (var cell in snapshot.Cells)
        {
            if (cell.Workers.Any(w => CanTake(w, spec, features)) && (best is null || cell.Pending < best.Pending))
            {
                best = cell;
            }
        }

        if (best is null)
        {
            return Cells.Default;
        }

        best.Routed();
        return best.Cell;
    }

    /// <summary>Whether <paramref name="worker"/> could run <paramref name="spec"/> (what the leader's planner checks).</summary>
    internal static bool CanTake(WorkerRecord worker, JobSpec spec, IReadOnlyList<string> features) =>
        !worker.Draining
        && worker.Executors.Contains(spec.Executor)
        && features.All(worker.Features.Contains)
        && spec.Slots <= worker.Slots
        && (spec.Constraints ?? new Dictionary<string, string>()).All(c => worker.Labels.TryGetValue(c.Key, out var value) && value == c.Value);

    private async Task<Snapshot> SnapshotAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        if (_snapshot is { } fresh && time.GetUtcNow() - fresh.At < Freshness)
        {
            return fresh;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } again && time.GetUtcNow() - again.At < Freshness)
            {
                return again;
            }

            var cells = await CellRegistry.ListAsync(store, cancellationToken);
            var loads = new List<CellLoad>(cells.Count);
            if (cells.Count > 1)
            {
                foreach (var cell in cells)
                {
                    var view = store.ForCell(cell);
                    var workers = (await StoreReads.ListAllAsync(view, StoreLayout.Workers, cancellationToken))
                        .Select(StoreReads.TryParse<WorkerRecord>).OfType<WorkerRecord>().ToList();
                    var status = StoreReads.TryParse<QueueStatusRecord>(await view.GetAsync(StoreLayout.QueueStatus, cancellationToken));
                    loads.Add(new CellLoad(cell, workers, status?.Pending ?? 0));
                }
            }
            else
            {
                loads.Add(new CellLoad(Cells.Default, [], 0));
            }

            var snapshot = new Snapshot(time.GetUtcNow(), loads);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed record Snapshot(DateTimeOffset At, IReadOnlyList<CellLoad> Cells);

    /// <summary>A cell as last read, with the jobs routed to it since counted in.</summary>
    private sealed class CellLoad(string cell, IReadOnlyList<WorkerRecord> workers, int pending)
    {
        private int _pending = pending;

        public string Cell { get; } = cell;

        public IReadOnlyList<WorkerRecord> Workers { get; } = workers;

        public int Pending => Volatile.Read(ref _pending);

        public void Routed() => Interlocked.Increment(ref _pending);
    }
}

/// <summary><c>GET /v1/cells</c> and <c>GET /v1/leader?cell=</c>: every cell with its leader, epoch, workers and pending jobs.</summary>
internal sealed class CellQueries(StoreConnection connection)
{
    /// <summary>Every cell, default first, each with its policy and, when it has no leader, why. Costs the registry's and
    /// the policies' listings, the live directors' listing, and per cell its candidates, workers and queue status.</summary>
    public async Task<IReadOnlyList<CellView>> ListAsync(CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var policies = await CellPolicyReads.ListAsync(store, cancellationToken);
        IReadOnlyList<DirectorRecord>? directors = null;
        var views = new List<CellView>();
        foreach (var cell in await CellRegistry.ListAsync(store, cancellationToken))
        {
            var view = store.ForCell(cell);
            var leader = await LeaderAsync(view, cancellationToken);
            var workers = await StoreReads.ListAllAsync(view, StoreLayout.Workers, cancellationToken);
            var status = StoreReads.TryParse<QueueStatusRecord>(await view.GetAsync(StoreLayout.QueueStatus, cancellationToken));
            // The counts are trusted only from the current leader's term, as admission control does.
            var pending = status is not null && leader is not null && status.Epoch == leader.Epoch ? status.Pending : (int?)null;
            var policy = policies.GetValueOrDefault(cell);
            string? waiting = null;
            if (leader is null)
            {
                directors ??= (await StoreReads.ListAllAsync(store, StoreLayout.Directors, cancellationToken))
                    .Select(StoreReads.TryParse<DirectorRecord>).OfType<DirectorRecord>().ToList();
                waiting = Waiting(policy, directors);
            }

            views.Add(new CellView(cell, leader?.DirectorId, leader?.Url, leader?.Epoch, workers.Count, pending)
            {
                AllowedVersions = policy?.AllowedVersions,
                Waiting = waiting,
            });
        }

        return views;
    }

    /// <summary>Why a cell with <paramref name="policy"/> has no leader while <paramref name="directors"/> live.</summary>
    internal static string Waiting(CellPolicyRecord? policy, IReadOnlyList<DirectorRecord> directors)
    {
        if (directors.Count == 0)
        {
            return "No director is running.";
        }

        var running = string.Join("; ", directors.GroupBy(d => d.Version, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({string.Join(", ", g.Select(d => d.Id).Order(StringComparer.Ordinal).Take(5))}{(g.Count() > 5 ? ", …" : "")})"));
        if (policy is not null && !directors.Any(d => CellPolicyReads.Veto(policy, d.Version) is null))
        {
            return policy.AllowedVersions.Count == 0
                ? $"Its policy record is damaged and allows no version (cpctl cell pin or unpin repairs it); live directors run {running}."
                : $"No live director runs a version its policy allows ({string.Join(", ", policy.AllowedVersions)}); live directors run {running}. Start one, or change the policy (cpctl cell pin|unpin).";
        }

        return $"No leader yet: an election is under way, or the directors allowed to lead it do not campaign (Director:Campaign=false) or have not discovered it yet; live directors run {running}.";
    }

    /// <summary>The leader of <paramref name="cell"/>, or null when none leads it; the cell must exist.</summary>
    public async Task<LeaderView?> LeaderAsync(string cell, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        return await LeaderAsync(store.ForCell(cell), cancellationToken);
    }

    /// <summary>True when <paramref name="cell"/> is the default cell or registered.</summary>
    public async Task<bool> ExistsAsync(string cell, CancellationToken cancellationToken) =>
        await CellRegistry.ExistsAsync(await connection.GetAsync(cancellationToken), cell, cancellationToken);

    internal static async Task<LeaderView?> LeaderAsync(ICoordinationStore cellStore, CancellationToken cancellationToken)
    {
        var item = await LeaderElection.ReadLeaderAsync(cellStore, StoreLayout.Election, cancellationToken);
        if (item is null)
        {
            return null;
        }

        DirectorRecord director;
        try
        {
            director = ContractJson.Deserialize<DirectorRecord>(item.Value.Span);
        }
        catch (JsonException)
        {
            // A candidate of another build may carry another value; the key still says who it is.
            director = new DirectorRecord { Id = StoreReads.Name(item) };
        }

        return new LeaderView(director.Id, director.Url, item.CreateRevision, director.StartedAt);
    }
}
