using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>What starting or halting a rollout came to.</summary>
internal enum RolloutWriteResult
{
    /// <summary>Written (or, for a halt, already halted).</summary>
    Done,

    /// <summary>No such rollout.</summary>
    NotFound,

    /// <summary>A rollout of that feature is running already.</summary>
    Running,

    /// <summary>The record changed between the read and the write, every time we tried.</summary>
    Raced,
}

/// <summary>
/// <c>/v1/cells/{cell}/rollouts</c> on any director (docs/cells.md, "Progressive feature rollout"): starts a rollout (a new
/// record, or one replacing a halted or completed rollout of the same feature), halts one for an operator and shows them
/// with the cell's agents that advertise the feature. Every write is conditioned on the version read
/// (<see cref="RolloutTransitions"/> makes the record), so it never overwrites a step the cell's leader wrote meanwhile.
/// </summary>
internal sealed class RolloutService(StoreConnection connection, DirectorIdentity director, TimeProvider time)
{
    // A write that loses a race with the leader's step reads again; a handful of rounds is plenty (a step is seconds apart).
    // Not a Polly pipeline: an optimistic-concurrency loop (read, write on the version read), not a backoff.
    private const int MaxRounds = 5;

    /// <summary>True when <paramref name="cell"/> is the default cell or registered.</summary>
    public async Task<bool> CellExistsAsync(string cell, CancellationToken cancellationToken) =>
        await CellRegistry.ExistsAsync(await connection.GetAsync(cancellationToken), cell, cancellationToken);

    /// <summary>Starts <paramref name="spec"/> (valid) in <paramref name="cell"/>.</summary>
    public async Task<(RolloutWriteResult Result, RolloutView? View)> StartAsync(string cell, RolloutSpec spec, CancellationToken cancellationToken)
    {
        var store = (await connection.GetAsync(cancellationToken)).ForCell(cell);
        var key = StoreLayout.Rollout(spec.Feature!);
        var by = spec.By is null ? $"via director {director.Id}" : $"{spec.By} via director {director.Id}";
        for (var round = 0; round < MaxRounds; round++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            var existing = item is null ? null : StoreReads.TryParse<RolloutRecord>(item);
            if (existing?.State == RolloutState.Running)
            {
                return (RolloutWriteResult.Running, await ViewAsync(store, cell, existing, cancellationToken));
            }

            var record = RolloutTransitions.Start(spec, by, time.GetUtcNow());
            var value = ContractJson.Serialize(record);
            var write = item is null ? new Transaction().Create(key, value) : new Transaction().Update(key, value, item.Version);
            if ((await store.CommitAsync(write, cancellationToken)).Succeeded)
            {
                return (RolloutWriteResult.Done, await ViewAsync(store, cell, record, cancellationToken));
            }
        }

        return (RolloutWriteResult.Raced, null);
    }

    /// <summary>Halts <paramref name="feature"/>'s rollout in <paramref name="cell"/> (running or completed): the feature goes
    /// off on every agent. Halting a halted rollout changes nothing.</summary>
    public async Task<(RolloutWriteResult Result, RolloutView? View)> HaltAsync(string cell, string feature, CancellationToken cancellationToken)
    {
        var store = (await connection.GetAsync(cancellationToken)).ForCell(cell);
        var key = StoreLayout.Rollout(feature);
        for (var round = 0; round < MaxRounds; round++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            if (item is null || StoreReads.TryParse<RolloutRecord>(item) is not { } record)
            {
                return (RolloutWriteResult.NotFound, null);
            }

            if (record.State == RolloutState.Halted)
            {
                return (RolloutWriteResult.Done, await ViewAsync(store, cell, record, cancellationToken));
            }

            var halted = RolloutTransitions.Halt(record, "halted by an operator", RolloutCounts.None, RolloutCounts.None, time.GetUtcNow());
            if ((await store.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(halted), item.Version), cancellationToken)).Succeeded)
            {
                return (RolloutWriteResult.Done, await ViewAsync(store, cell, halted, cancellationToken));
            }
        }

        return (RolloutWriteResult.Raced, null);
    }

    /// <summary>The rollout of <paramref name="feature"/> in <paramref name="cell"/>, or null.</summary>
    public async Task<RolloutView?> GetAsync(string cell, string feature, CancellationToken cancellationToken)
    {
        var store = (await connection.GetAsync(cancellationToken)).ForCell(cell);
        var record = StoreReads.TryParse<RolloutRecord>(await store.GetAsync(StoreLayout.Rollout(feature), cancellationToken));
        return record is null ? null : await ViewAsync(store, cell, record, cancellationToken);
    }

    /// <summary>Every rollout of <paramref name="cell"/>, by feature. Costs one listing of the rollouts and one of the cell's workers.</summary>
    public async Task<IReadOnlyList<RolloutView>> ListAsync(string cell, CancellationToken cancellationToken)
    {
        var store = (await connection.GetAsync(cancellationToken)).ForCell(cell);
        var records = (await StoreReads.ListAllAsync(store, StoreLayout.Rollouts, cancellationToken))
            .Select(i => StoreReads.TryParse<RolloutRecord>(i)).OfType<RolloutRecord>().ToList();
        if (records.Count == 0)
        {
            return [];
        }

        var workers = await WorkersAsync(store, cancellationToken);
        return [.. records.Select(r => View(cell, r, workers))];
    }

    private static async Task<RolloutView> ViewAsync(ICoordinationStore store, string cell, RolloutRecord record, CancellationToken cancellationToken) =>
        View(cell, record, await WorkersAsync(store, cancellationToken));

    private static RolloutView View(string cell, RolloutRecord record, IReadOnlyList<WorkerRecord> workers) =>
        new(cell, record, record.Share, workers.Count, [.. workers.Where(w => w.Features.Contains(record.Feature, StringComparer.Ordinal)).Select(w => w.Id).Order(StringComparer.Ordinal)]);

    private static async Task<IReadOnlyList<WorkerRecord>> WorkersAsync(ICoordinationStore store, CancellationToken cancellationToken) =>
        [.. (await StoreReads.ListAllAsync(store, StoreLayout.Workers, cancellationToken)).Select(i => StoreReads.TryParse<WorkerRecord>(i)).OfType<WorkerRecord>()];
}
