using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Registered agents without agent processes: ephemeral <c>workers/&lt;id&gt;</c> records written from the bench
/// process, <c>perSession</c> of them on each store session (1 = one session per simulated agent, as real agents
/// have). They never run anything: the directors see registrations, nothing else. Disposing closes every session,
/// which removes the registrations at once.
/// </summary>
internal sealed class SimulatedAgents : IAsyncDisposable
{
    private readonly ConcurrentBag<ICoordinationStore> _sessions = [];

    /// <summary>Store sessions opened.</summary>
    public int Sessions => _sessions.Count;

    /// <summary>A worker record like an agent's, labelled <c>sim=&lt;label&gt;</c> so a job can be pinned to chosen workers;
    /// an agent of a named <paramref name="cell"/> carries it in its record.</summary>
    public static WorkerRecord Record(string id, string label, int slots = 4, string? pool = null, string cell = Cells.Default) => new()
    {
        Cell = cell == Cells.Default ? null : cell,
        Id = id,
        Host = "bench-sim",
        ProcessId = Environment.ProcessId,
        Labels = pool is null
            ? new Dictionary<string, string>(StringComparer.Ordinal) { ["sim"] = label }
            : new Dictionary<string, string>(StringComparer.Ordinal) { ["sim"] = label, ["pool"] = pool },
        Slots = slots,
        Version = "bench",
        ProtocolVersion = Protocol.Version,
        // No heartbeat feature: a simulated agent never reports, and must not be marked suspect for it.
        Executors = ["echo"],
        Features = [],
        HeartbeatSeconds = 5,
        StartedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Registers <paramref name="count"/> workers <c>&lt;prefix&gt;-00001</c>…, <paramref name="perSession"/> per session,
    /// opening <paramref name="parallelism"/> sessions at a time; each has <paramref name="slots"/> slots and, when
    /// given, the label <c>pool=</c><paramref name="pool"/>. Each registers in <paramref name="cell"/>'s subtree
    /// (<c>cells/&lt;cell&gt;/workers/…</c> for a named cell), as an agent with <c>Agent:Cell</c> does.</summary>
    public async Task RegisterAsync(
        StoreTarget target, string prefix, int count, int perSession, int parallelism, CancellationToken cancellationToken, int slots = 4, string? pool = null,
        string cell = Cells.Default)
    {
        var sessions = (count + perSession - 1) / perSession;
        await Parallel.ForAsync(0, sessions, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (s, ct) =>
        {
            var store = await RawStoreWrites.ConnectAsync(target, ct).ConfigureAwait(false);
            _sessions.Add(store);
            for (var i = s * perSession; i < Math.Min(count, (s + 1) * perSession); i++)
            {
                var id = $"{prefix}-{i + 1:00000}";
                await RegisterAsync(store.ForCell(cell), Record(id, id, slots, pool, cell), ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Creates the ephemeral registration of <paramref name="id"/> (label <c>sim=</c><paramref name="label"/>) on
    /// <paramref name="store"/>'s session.</summary>
    public static Task RegisterAsync(ICoordinationStore store, string id, string label, CancellationToken cancellationToken) =>
        RegisterAsync(store, Record(id, label), cancellationToken);

    private static async Task RegisterAsync(ICoordinationStore store, WorkerRecord record, CancellationToken cancellationToken)
    {
        var result = await store.CommitAsync(new Transaction().Create(StoreLayout.Worker(record.Id), ContractJson.Serialize(record), ephemeral: true), cancellationToken)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"workers/{record.Id} exists already.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_sessions, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (s, _) => await s.DisposeAsync().ConfigureAwait(false))
            .ConfigureAwait(false);
        _sessions.Clear();
    }
}
