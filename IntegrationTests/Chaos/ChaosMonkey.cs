using System.Diagnostics;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// Injects a random fault every few seconds for the chaos period and always repairs it: kill -9 of the leader or of
/// an agent (restarted under the same name), kill -9 of one store member (restarted; never two at once, so the store
/// keeps its quorum), a process's store links black-holed past the session timeout, or cut. Every choice comes from
/// one seeded <see cref="Random"/> used by this loop alone, so a seed replays the same sequence of decisions (the
/// timing of the machine still varies).
/// </summary>
public sealed partial class ChaosMonkey(ChaosCluster cluster, FaultTimeline timeline, Random random, Action<string> log)
{
    private const int MaxConcurrentFaults = 3;
    private readonly HashSet<string> _busy = [];
    private readonly Lock _lock = new();
    private bool _storeFault;

    /// <summary>Injects faults for <paramref name="period"/>, then waits (bounded) until every fault is repaired.</summary>
    public async Task RunAsync(TimeSpan period)
    {
        var clock = Stopwatch.StartNew();
        var repairs = new List<Task>();
        while (clock.Elapsed < period)
        {
            // Pacing the faults (not synchronisation): one every 1.5–4.5 s.
            await Task.Delay(TimeSpan.FromMilliseconds(1500 + random.Next(3000)));
            repairs.RemoveAll(r => r.IsCompleted && r.Exception is null);
            if (repairs.Count(r => !r.IsCompleted) >= MaxConcurrentFaults)
            {
                continue;
            }

            if (await InjectAsync() is { } repair)
            {
                repairs.Add(repair);
            }
        }

        await TestSupport.Eventually.WithinAsync(Task.WhenAll(repairs), TimeSpan.FromMinutes(2), "repairing every fault");
    }

    private async Task<Task?> InjectAsync()
    {
        var kind = (FaultKind)random.Next(5);
        switch (kind)
        {
            case FaultKind.KillLeader:
                // The leader of a cell drawn at random: with several cells the directors lead different ones, so
                // every director is killed as a leader in turn, and its cells move together.
                var cell = cluster.Cells[random.Next(cluster.Cells.Count)];
                var leader = await cluster.LeaderAsync(cell);
                var down = TimeSpan.FromMilliseconds(500 + random.Next(2500));
                // The leader view names a director; right after a restart it may still be the key of the killed
                // incarnation (until its session expires). Kill only a process that logged leading with that epoch.
                if (leader is { } l && !cluster.IsLeading(l.Name, l.Epoch))
                {
                    log($"leader {l.Name} of cell {cell} (epoch {l.Epoch}) is not leading in its current incarnation's log: no kill this round");
                    return null;
                }

                return leader is { } current && Claim(current.Name)
                    ? KillAndRestartAsync(kind, current.Name, down, $"leads {cell} with epoch {current.Epoch}")
                    : null;
            case FaultKind.KillAgent:
                var agent = ChaosCluster.AgentNames[random.Next(ChaosCluster.AgentCount)];
                var agentDown = TimeSpan.FromMilliseconds(500 + random.Next(2500));
                return Claim(agent) ? KillAndRestartAsync(kind, agent, agentDown, null) : null;
            case FaultKind.KillStoreMember:
                var member = random.Next(cluster.Servers.Members.Count);
                var memberDown = TimeSpan.FromMilliseconds(2000 + random.Next(4000));
                return ClaimStore() ? KillStoreMemberAsync(member, memberDown) : null;
            case FaultKind.PauseStoreLink:
                var paused = await PickProcessAsync();
                var pause = ChaosSettings.SessionTimeout + TimeSpan.FromMilliseconds(1000 + random.Next(2000));
                return Claim(paused) ? PauseAsync(paused, pause) : null;
            default:
                var cut = await PickProcessAsync();
                return Claim(cut) ? CutAsync(cut) : null;
        }
    }

    /// <summary>The leader of a random cell two times in five (a leader cut off from the store is what fencing is for),
    /// otherwise any process.</summary>
    private async Task<string> PickProcessAsync()
    {
        var roll = random.Next(5);
        var any = ChaosCluster.ProcessNames[random.Next(ChaosCluster.ProcessNames.Count)];
        var cell = cluster.Cells[random.Next(cluster.Cells.Count)];
        return roll < 2 && await cluster.LeaderAsync(cell) is { } l && cluster.IsLeading(l.Name, l.Epoch) ? l.Name : any;
    }

    private bool Claim(string name)
    {
        lock (_lock)
        {
            return _busy.Add(name);
        }
    }

    private bool ClaimStore()
    {
        lock (_lock)
        {
            if (_storeFault)
            {
                return false;
            }

            _storeFault = true;
            return true;
        }
    }

    private void Release(string name)
    {
        lock (_lock)
        {
            _busy.Remove(name);
        }
    }
}
