using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Dashboard;

/// <summary>
/// What the browser tests look at: a real etcd, one director process on a real loopback port (Chromium needs a
/// socket; the in-memory test server has none) with a full and a read-only token, and two agent processes:
/// <c>ui-agent</c> (label zone=ui) runs the tests' jobs; <c>ui-drain</c> (zone=drain) is the one the tests drain,
/// kept busy by a long job and a long drain timeout, so it stays registered (and drainable again) while draining.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>The read-only token the director accepts.</summary>
    public const string ReadOnlyToken = "dashboard-read-only-token";

    /// <summary>The worker the drain tests drain.</summary>
    public const string DrainWorker = "ui-drain";

    private ServerCluster? _servers;

    /// <summary>The processes.</summary>
    public ControlPlaneApps Apps { get; } = new("dashboard");

    /// <summary>The director.</summary>
    public DirectorProcess Director { get; private set; } = null!;

    /// <summary>Its API, with the full token.</summary>
    public DirectorClient Api => Director.Client;

    /// <summary>The full token.</summary>
    public string Token => Apps.Token;

    /// <summary>The long job that keeps <see cref="DrainWorker"/> busy.</summary>
    public JobView Blocker { get; private set; } = null!;

    /// <summary>A job spec the <c>ui-agent</c> runs: sleep for <paramref name="seconds"/>.</summary>
    public static JobSpec Sleep(double seconds, string zone = "ui", string? name = null) => new()
    {
        Name = name,
        Executor = "sleep",
        Args = JsonDocument.Parse($$"""{"seconds":{{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""").RootElement,
        Constraints = new Dictionary<string, string> { ["zone"] = zone },
    };

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        // Checked first: without a browser nothing else is worth starting, and the failure says what to install.
        Chromium.EnsureInstalled();
        _servers = await E2eBackend.Etcd.StartAsync();
        var target = E2eBackend.Etcd.Target(_servers, "dashboard");
        Director = await Apps.StartDirectorAsync(target, "director-ui", extraArguments: [$"--Auth:ReadOnlyTokens:0={ReadOnlyToken}"]);
        await Task.WhenAll(
            Apps.StartAgentAsync(target, "ui-agent", extraArguments: ["--Agent:Labels:zone=ui"]),
            Apps.StartAgentAsync(target, DrainWorker, slots: 1, extraArguments: ["--Agent:Labels:zone=drain", "--Agent:DrainTimeout=00:10:00"]));
        await Eventually.UntilAsync(
            async () => (await Api.WorkersAsync()).Count == 2 && await Api.LeaderAsync() is not null,
            TimeSpan.FromSeconds(60),
            Describe);
        Blocker = await Api.SubmitAsync(Sleep(3600, "drain", "blocker"));
        await Eventually.UntilAsync(async () => (await Api.GetJobAsync(Blocker.Id))?.State == JobState.Running, TimeSpan.FromSeconds(60), Describe);
    }

    /// <summary>The tail of every process's log.</summary>
    public string Describe() => string.Join("\n---\n", Apps.Processes.Select(p => $"{p.Name}:\n{p.LogTail(15)}"));

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }
}
