using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>
/// Cells' leadership policies (docs/cells.md, "Version-gated leadership"): <c>GET|PUT|DELETE /v1/cells/{cell}/policy</c>.
/// Any director serves them; each is one record at <c>meta/cell-policies/&lt;cell&gt;</c>, written with a version
/// check so two operators pinning at once both land whole (the last one wins), never a mix.
/// </summary>
internal sealed partial class CellPolicyService(StoreConnection connection, TimeProvider time, DirectorIdentity identity, ILogger<CellPolicyService> logger)
{
    private const int MaxRounds = 3;

    // store.write.unknown: a write whose answer was lost is repeated; the next round's read shows what landed.
    private readonly Polly.ResiliencePipeline _repeat = StoreRetries.RepeatUnknownOutcome(time, MaxRounds);

    /// <summary><paramref name="cell"/>'s policy, or null when it has none; the cell must exist.</summary>
    public async Task<CellPolicyRecord?> GetAsync(string cell, CancellationToken cancellationToken) =>
        await CellPolicyReads.ReadAsync(await connection.GetAsync(cancellationToken), cell, cancellationToken);

    /// <summary>Writes <paramref name="cell"/>'s policy (created or replaced) and returns it with the revision it was
    /// written at; the patterns must be valid (<see cref="CellPolicies.PatternsProblem"/>).</summary>
    /// <exception cref="StoreException">The store refused the write <see cref="MaxRounds"/> times in a row (another
    /// writer each time), or failed.</exception>
    public async Task<(CellPolicyRecord Policy, long Revision)> PutAsync(string cell, IReadOnlyList<string> allowedVersions, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var key = StoreLayout.CellPolicy(cell);
        var policy = new CellPolicyRecord { Cell = cell, AllowedVersions = [.. allowedVersions], UpdatedAt = time.GetUtcNow(), UpdatedBy = identity.Id };
        var value = ContractJson.Serialize(policy);
        // Not a retry of a failure: a round that lost to a concurrent writer reads the record's new version and writes again.
        for (var round = 1; round <= MaxRounds; round++)
        {
            var current = await store.GetAsync(key, cancellationToken);
            var transaction = current is null ? new Transaction().Create(key, value) : new Transaction().Update(key, value, current.Version);
            var result = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(transaction, ct), cancellationToken);
            if (result.Succeeded)
            {
                Log.Pinned(logger, cell, string.Join(", ", policy.AllowedVersions));
                return (policy, result.Revision);
            }
        }

        throw new StoreException($"The policy of cell '{cell}' changed under {MaxRounds} writes in a row; try again.");
    }

    /// <summary>Removes <paramref name="cell"/>'s policy (any version may lead it again); true when one was there.</summary>
    public async Task<(bool Removed, long Revision)> DeleteAsync(string cell, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var key = StoreLayout.CellPolicy(cell);
        // Not a retry of a failure: a round that lost to a concurrent writer reads again.
        for (var round = 1; round <= MaxRounds; round++)
        {
            if (await store.GetAsync(key, cancellationToken) is not { } current)
            {
                return (false, store.SeenRevision);
            }

            var result = await _repeat.ExecuteAsync(async ct => await store.CommitAsync(new Transaction().Delete(key, current.Version), ct), cancellationToken);
            if (result.Succeeded)
            {
                Log.Unpinned(logger, cell);
                return (true, result.Revision);
            }
        }

        throw new StoreException($"The policy of cell '{cell}' changed under {MaxRounds} deletions in a row; try again.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1180, Level = LogLevel.Information, Message = "Cell {Cell} may now be led by director versions {Versions} only")]
        public static partial void Pinned(ILogger logger, string cell, string versions);

        [LoggerMessage(EventId = 1181, Level = LogLevel.Information, Message = "Cell {Cell} has no version policy now: any director version may lead it")]
        public static partial void Unpinned(ILogger logger, string cell);
    }
}
