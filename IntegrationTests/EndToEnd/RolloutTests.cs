using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Rollouts;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Progressive feature rollout (docs/cells.md) with real processes on a one-member store: a director judging rollouts
/// every half second, four agents whose ids are chosen so that each step splits them, and short jobs submitted in bounded
/// batches. A feature that makes jobs fail on the agents that have it (in a named cell) halts by itself and goes off everywhere; a healthy
/// one reaches 100 %, with its leader killed halfway (a second director resumes from the record). One subclass per backend.
/// </summary>
public abstract class RolloutTests(ITestOutputHelper output) : StoreSystemTests(output, "e2e-rollout")
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);
    private const string Cell = "canary";

    [Fact]
    public async Task A_rollout_whose_feature_fails_jobs_on_the_agents_that_have_it_halts_and_switches_it_off_by_itself()
    {
        const string Feature = "x-bad";
        // Two agents fall within 50 %, two do not; every agent fails its jobs while the feature is on for it.
        var agents = Pick(Feature, [50, 100], 4);
        // In a named cell: its agents, its leader and the API all reach the record through the cell's view.
        var api = (await StartAsync("rollout-halts", agents, [$"--Agent:FaultInjection:FailWithFeature={Feature}", $"--Agent:Cell={Cell}"]))[0].Client;

        var started = await StartRolloutAsync(api, Cell, new RolloutSpec { Feature = Feature, Steps = [50, 100], Margin = 0.2, MinJobs = 4, StepSeconds = 600 });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var with = agents.Where(a => RolloutShares.Has(Feature, a, 50)).Order(StringComparer.Ordinal).ToList();
        // The agents compute the same share as the test: exactly the two within 50 % advertise it.
        await Eventually.UntilAsync(() => RolloutAsync(api, Feature, Cell), r => r.AgentsWithFeature.SequenceEqual(with), Deadline);

        var halted = await RunJobsUntilAsync(api, Feature, r => r.Rollout.State != RolloutState.Running, Cell);
        Output.WriteLine($"halted: {halted.Rollout.Reason}");
        Assert.Equal(RolloutState.Halted, halted.Rollout.State);
        Assert.Equal(0, halted.Rollout.Share);
        Assert.Contains("failed more often on agents with x-bad", halted.Rollout.Reason, StringComparison.Ordinal);
        var step = Assert.Single(halted.Rollout.History);
        Assert.Equal((50, "halted"), (step.Share, step.Outcome));
        Assert.True(step.With.Failed >= 4 && step.With.FailureRate > step.Without.FailureRate + 0.2, $"measured {step}");

        // Every agent takes the feature off, and the agents that failed run jobs again.
        await Eventually.UntilAsync(() => RolloutAsync(api, Feature, Cell), r => r.AgentsWithFeature.Count == 0 && r.Agents == 4, Deadline);
        // The default cell has no such rollout: the record is the cell's own.
        using var elsewhere = await api.Http.GetAsync(new Uri($"/v1/cells/default/rollouts/{Feature}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        var after = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.SubmitAsync(Job(Cell))));
        var done = await Task.WhenAll(after.Select(j => api.WaitForTerminalAsync(j.Id, Deadline)));
        Assert.All(done, j => Assert.Equal(JobState.Succeeded, j.State));
    }

    [Fact]
    public async Task A_healthy_rollout_started_with_cpctl_reaches_every_agent_across_a_leader_kill()
    {
        const string Feature = "x-good";
        var agents = Pick(Feature, [25, 50, 100], 4);
        var directors = await StartAsync("rollout-completes", agents, [], directors: 2);
        var leader = await Eventually.UntilAsync(() => directors[0].Client.LeaderAsync(), l => l is not null, Deadline);
        var director = directors.Single(d => d.Process.Name != leader!.DirectorId);
        var api = director.Client;
        var environment = new Dictionary<string, string> { ["CONTROLPLANE_URL"] = director.Url.ToString(), ["CONTROLPLANE_TOKEN"] = director.Token };

        // Bad input is refused naming the field, and nothing is written.
        var refused = await StartRolloutAsync(api, Cells.Default, new RolloutSpec { Feature = "fast", Steps = [50, 10] });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("\"feature\"", refused.Body, StringComparison.Ordinal);
        Assert.Contains("\"steps\"", refused.Body, StringComparison.Ordinal);
        Assert.Equal("[]", await api.Http.GetStringAsync(new Uri("/v1/cells/default/rollouts", UriKind.Relative)));
        using var nowhere = await api.Http.GetAsync(new Uri("/v1/cells/nowhere/rollouts", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, nowhere.StatusCode);
        Assert.Contains("\"cell\"", await nowhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var cli = await ControlPlaneApps.RunCliAsync(
            ["rollout", "start", Feature, "--steps", "25,50,100", "--min-jobs", "3", "--step-interval", "1s", "--margin", "0.2"], environment);
        Assert.True(cli.ExitCode == 0, $"cpctl rollout start exited {cli.ExitCode}: {cli.Error}");
        Assert.Contains("25 %", cli.Out, StringComparison.Ordinal);
        // A second start while it runs is a conflict.
        var again = await StartRolloutAsync(api, Cells.Default, new RolloutSpec { Feature = Feature });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        // Once the first step is judged, kill -9 the leader: the other director leads, resumes from the record and finishes.
        var advanced = await RunJobsUntilAsync(api, Feature, r => r.Rollout.History.Count > 0);
        Assert.Equal((RolloutState.Running, 50), (advanced.Rollout.State, advanced.Rollout.Share));
        await directors.Single(d => d.Process.Name == leader!.DirectorId).Process.KillAsync();
        var completed = await RunJobsUntilAsync(api, Feature, r => r.Rollout.State != RolloutState.Running);
        Assert.Equal(director.Process.Name, (await api.LeaderAsync())?.DirectorId);
        Assert.Equal((RolloutState.Completed, 100), (completed.Rollout.State, completed.Rollout.Share));
        Assert.Equal(["advanced", "completed"], completed.Rollout.History.Select(h => h.Outcome));
        Assert.Equal([25, 50], completed.Rollout.History.Select(h => h.Share));
        Assert.All(completed.Rollout.History, h => Assert.True(h.With.Finished >= 3 && h.Without.Finished >= 3, $"judged on {h}"));
        await Eventually.UntilAsync(() => RolloutAsync(api, Feature), r => r.AgentsWithFeature.Count == 4, Deadline);

        var status = await ControlPlaneApps.RunCliAsync(["rollout", "status", "--cell", Cells.Default], environment);
        Assert.True(status.ExitCode == 0, $"cpctl rollout status exited {status.ExitCode}: {status.Error}");
        Assert.Contains("completed", status.Out, StringComparison.Ordinal);
        Assert.Contains("4/4", status.Out, StringComparison.Ordinal);

        // An operator's halt (after completion too) switches the feature off on every agent.
        var halt = await ControlPlaneApps.RunCliAsync(["rollout", "halt", Feature], environment);
        Assert.True(halt.ExitCode == 0, $"cpctl rollout halt exited {halt.ExitCode}: {halt.Error}");
        var off = await Eventually.UntilAsync(() => RolloutAsync(api, Feature), r => r.AgentsWithFeature.Count == 0, Deadline);
        Assert.Equal((RolloutState.Halted, "halted by an operator"), (off.Rollout.State, off.Rollout.Reason));
    }

    /// <summary>Starts <paramref name="directors"/> directors (rollouts judged every half second) and the agents, and waits
    /// until all agents are registered.</summary>
    private async Task<List<DirectorProcess>> StartAsync(string root, IReadOnlyList<string> agents, IEnumerable<string> agentArguments, int directors = 1)
    {
        var target = Backend.Target(Servers, root);
        var started = new List<DirectorProcess>();
        for (var i = 1; i <= directors; i++)
        {
            started.Add(await Apps.StartDirectorAsync(target, $"director-{i}", ["--Scheduler:RolloutInterval=00:00:00.500", "--Director:CellDiscoveryInterval=00:00:00.500"]));
        }

        foreach (var agent in agents)
        {
            await Apps.StartAgentAsync(target, agent, slots: 1, agentArguments);
        }

        await Eventually.UntilAsync(() => started[0].Client.WorkersAsync(), w => w.Count == agents.Count, Deadline);
        return started;
    }

    /// <summary>Submits batches of one short job per agent (one slot each, so a batch spreads over the agents), each batch
    /// run to its end, until <paramref name="until"/> holds for the rollout; at most 60 batches.</summary>
    private async Task<RolloutView> RunJobsUntilAsync(DirectorClient api, string feature, Func<RolloutView, bool> until, string cell = Cells.Default)
    {
        var deadline = DateTimeOffset.UtcNow + Deadline;
        for (var batch = 0; batch < 60 && DateTimeOffset.UtcNow < deadline; batch++)
        {
            var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => api.SubmitAsync(Job(cell))));
            await Task.WhenAll(jobs.Select(j => api.WaitForTerminalAsync(j.Id, Deadline)));
            var now = await RolloutAsync(api, feature, cell);
            if (until(now))
            {
                Output.WriteLine($"after {batch + 1} batches: {now.Rollout.State} at {now.Rollout.Share} %");
                return now;
            }
        }

        var last = await RolloutAsync(api, feature, cell);
        throw new TimeoutException($"The rollout of {feature} is still {last.Rollout.State} at {last.Rollout.Share} % ({last.Rollout.History.Count} steps judged).");
    }

    /// <summary><paramref name="count"/> agent ids spread round-robin over the gaps between the steps (by the same hash the
    /// agents use), so every step below 100 has agents both with and without the feature.</summary>
    private static List<string> Pick(string feature, int[] steps, int count)
    {
        var bounds = steps.Prepend(0).ToArray();
        var picked = new List<string>();
        for (var i = 0; picked.Count < count; i++)
        {
            var (low, high) = (bounds[i % steps.Length], bounds[(i % steps.Length) + 1]);
            picked.Add(Enumerable.Range(0, 10_000).Select(n => $"agent-{n}")
                .First(c => !picked.Contains(c) && RolloutShares.Bucket(feature, c) >= low && RolloutShares.Bucket(feature, c) < high));
        }

        return picked;
    }

    private static JobSpec Job(string cell = Cells.Default) => new() { Executor = "shell", Command = ["/bin/sh", "-c", "sleep 0.2"], MaxAttempts = 1, Cell = cell };

    private static async Task<RolloutView> RolloutAsync(DirectorClient api, string feature, string cell = Cells.Default)
    {
        using var response = await api.Http.GetAsync(new Uri($"/v1/cells/{cell}/rollouts/{feature}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return ContractJson.Deserialize<RolloutView>(await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task<(HttpStatusCode StatusCode, string Body)> StartRolloutAsync(DirectorClient api, string cell, RolloutSpec spec)
    {
        using var response = await api.Http.PostAsync(
            new Uri($"/v1/cells/{cell}/rollouts", UriKind.Relative),
            new ByteArrayContent(ContractJson.Serialize(spec)) { Headers = { ContentType = new("application/json") } });
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperRolloutTests(ITestOutputHelper output) : RolloutTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdRolloutTests(ITestOutputHelper output) : RolloutTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
