using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// What the failover tests with real processes share: a three-member store of one backend started per test class,
/// director and agent processes on it, and killing (-9) whichever director leads. Each test class picks its own
/// root, so its processes never meet another class's.
/// </summary>
public abstract class ProcessFailoverTests : StoreSystemTests
{
    /// <summary>Creates the test class; <paramref name="apps"/> names its processes' log folder. The store has three members.</summary>
    protected ProcessFailoverTests(ITestOutputHelper output, string apps)
        : base(output, apps, members: 3)
    {
    }

    /// <summary>Starts <c>director-1</c> to <c>director-3</c> on <paramref name="root"/> and, unless
    /// <paramref name="agents"/> is 0, that many agents of 6 slots; returns the directors (the live ones, for
    /// <see cref="KillLeaderAsync"/>).</summary>
    protected async Task<(StoreTarget Target, List<DirectorProcess> Directors)> StartAsync(string root, int agents = 2)
    {
        var target = Backend.Target(Servers, root);
        var directors = (await Task.WhenAll(Enumerable.Range(1, 3).Select(i => Apps.StartDirectorAsync(target, $"director-{i}")))).ToList();
        await Task.WhenAll(Enumerable.Range(1, agents).Select(i => Apps.StartAgentAsync(target, $"agent-{i}", slots: 6)));
        return (target, directors);
    }

    /// <summary>Kills (-9) the director that leads, once <paramref name="alive"/>'s first one names a live leader, and
    /// removes it from <paramref name="alive"/>.</summary>
    protected async Task KillLeaderAsync(List<DirectorProcess> alive, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(alive);
        var leader = await Eventually.UntilAsync(() => alive[0].Client.LeaderAsync(), l => l is not null && alive.Any(d => d.Process.Name == l.DirectorId), deadline);
        var doomed = alive.Single(d => d.Process.Name == leader!.DirectorId);
        await doomed.Process.KillAsync();
        alive.Remove(doomed);
        Output.WriteLine($"killed leader {doomed.Process.Name} at {doomed.Process.KilledAt:O}");
    }
}
