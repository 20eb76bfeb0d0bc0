using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Director.Api;

/// <summary>Who leads and which directors are alive, read from the election and membership keys.</summary>
internal sealed class ClusterQueries(StoreConnection connection)
{
    /// <summary>The leader: the oldest election candidate, whose value is its director record; null when none.</summary>
    public async Task<LeaderView?> LeaderAsync(CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        return await LeaderAsync(store, cancellationToken);
    }

    public async Task<ClusterView> ClusterAsync(CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        // A barrier first, so the revision is current and the reads after it are at least that new. ZooKeeper syncs
        // only when asked for a revision beyond what it has seen; etcd's barrier is a linearizable read either way.
        var revision = await store.SyncAsync(store.Backend == StoreBackend.ZooKeeper ? store.SeenRevision + 1 : 0, cancellationToken);
        var directors = new List<DirectorRecord>();
        foreach (var item in await StoreReads.ListAllAsync(store, StoreLayout.Directors, cancellationToken))
        {
            directors.Add(Parse(item));
        }

        var leader = await LeaderAsync(store, cancellationToken);
        var options = connection.Options;
        var session = store.Session;
        var view = new StoreView(
            options.ParsedBackend.ToString().ToLowerInvariant(),
            options.EffectiveEndpoints.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            options.EffectiveRoot,
            revision,
            session.State.ToString(),
            session.Timeout.TotalSeconds);
        return new ClusterView(directors, leader, view);
    }

    private static async Task<LeaderView?> LeaderAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        var item = await LeaderElection.ReadLeaderAsync(store, StoreLayout.Election, cancellationToken);
        if (item is null)
        {
            return null;
        }

        var director = Parse(item);
        return new LeaderView(director.Id, director.Url, item.CreateRevision, director.StartedAt);
    }

    private static DirectorRecord Parse(StoreItem item)
    {
        try
        {
            return ContractJson.Deserialize<DirectorRecord>(item.Value.Span);
        }
        catch (JsonException)
        {
            // A candidate of another build may carry another value; the key still says who it is.
            return new DirectorRecord { Id = StoreReads.Name(item) };
        }
    }
}
