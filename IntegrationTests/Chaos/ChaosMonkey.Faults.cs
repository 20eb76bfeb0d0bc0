using System.Globalization;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Each fault from injection to repair, recorded on the timeline.</summary>
public sealed partial class ChaosMonkey
{
    private async Task KillAndRestartAsync(FaultKind kind, string name, TimeSpan down, string? detail)
    {
        var fault = timeline.Begin(kind, name);
        try
        {
            var pid = await cluster.KillAsync(name);
            fault.Detail = string.Create(CultureInfo.InvariantCulture, $"pid {pid}{(detail is null ? "" : ", " + detail)}, down {down.TotalSeconds:0.0}s");
            log($"{timeline.At(fault.Start)} kill -9 {name} ({fault.Detail})");
            await Task.Delay(down);
            await cluster.RestartAsync(name);
        }
        finally
        {
            timeline.End(fault);
            Release(name);
        }
    }

    private async Task KillStoreMemberAsync(int member, TimeSpan down)
    {
        var name = cluster.Servers.Members[member].Name;
        var fault = timeline.Begin(FaultKind.KillStoreMember, $"store-{name}");
        try
        {
            await cluster.Servers.KillAsync(member);
            fault.Detail = string.Create(CultureInfo.InvariantCulture, $"down {down.TotalSeconds:0.0}s");
            log($"{timeline.At(fault.Start)} kill -9 store member {name}");
            await Task.Delay(down);
            await cluster.Servers.StartMemberAsync(member);
        }
        finally
        {
            timeline.End(fault);
            lock (_lock)
            {
                _storeFault = false;
            }
        }
    }

    private async Task PauseAsync(string name, TimeSpan pause)
    {
        var fault = timeline.Begin(FaultKind.PauseStoreLink, name);
        try
        {
            foreach (var link in cluster.Links(name))
            {
                link.Pause();
            }

            fault.Detail = string.Create(CultureInfo.InvariantCulture, $"black hole {pause.TotalSeconds:0.0}s");
            log($"{timeline.At(fault.Start)} pause store links of {name} for {pause.TotalSeconds:0.0}s");
            await Task.Delay(pause);
        }
        finally
        {
            foreach (var link in cluster.Links(name))
            {
                link.Resume();
            }

            timeline.End(fault);
            Release(name);
        }
    }

    private Task CutAsync(string name)
    {
        var fault = timeline.Begin(FaultKind.CutStoreLink, name);
        foreach (var link in cluster.Links(name))
        {
            link.CutAll();
        }

        log($"{timeline.At(fault.Start)} cut store links of {name}");
        timeline.End(fault);
        Release(name);
        return Task.CompletedTask;
    }
}
