using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Starting, killing and restarting the processes.</summary>
public sealed partial class ChaosCluster
{
    /// <summary>kill -9 of <paramref name="name"/>; it leaves the client rotation until restarted. Returns its pid.</summary>
    public async Task<int> KillAsync(string name)
    {
        var process = Process(name);
        lock (_lock)
        {
            _down.Add(name);
        }

        await process.KillAsync();
        return process.ProcessId;
    }

    /// <summary>Starts <paramref name="name"/> again (same id, same proxies) and waits until it is ready: a director
    /// answers <c>/readyz</c> (its store session is up), so clients never meet a director still connecting.</summary>
    public async Task RestartAsync(string name)
    {
        if (name.StartsWith("director-", StringComparison.Ordinal))
        {
            await StartDirectorAsync(name);
        }
        else
        {
            await StartAgentAsync(name);
        }

        lock (_lock)
        {
            _down.Remove(name);
        }
    }

    private StoreTarget TargetOf(string name) =>
        new(Backend.Name, string.Join(',', _links[name].Select(p => p.Address)), _root, ChaosSettings.SessionTimeout);

    private async Task StartDirectorAsync(string name)
    {
        var director = await Apps.StartDirectorAsync(TargetOf(name), name, Cells.Count > 1 ? [.. DirectorArguments, .. CellDirectorArguments] : DirectorArguments);
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await director.Client.Http.GetAsync(new Uri("/readyz", UriKind.Relative));
                return response.IsSuccessStatusCode;
            },
            TimeSpan.FromSeconds(60),
            () => director.Process.LogTail(15));
        lock (_lock)
        {
            _directors[name] = director;
        }
    }

    private async Task StartAgentAsync(string name)
    {
        var agent = await Apps.StartAgentAsync(TargetOf(name), name, Slots, [$"--Agent:Cell={CellOf(name)}"]);
        lock (_lock)
        {
            _agents[name] = agent;
        }
    }
}
