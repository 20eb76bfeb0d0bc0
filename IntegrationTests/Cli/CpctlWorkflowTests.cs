using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.IntegrationTests.EndToEnd;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Cli;

/// <summary>
/// <c>cpctl workflow</c>, the real build, against real directors and agents (the end-to-end cluster): the example ETL
/// diamond (examples/etl-diamond.json, what docs/cpctl.md shows) submitted with <c>--wait</c> runs in order and reads
/// back by ref; a repeat with the key is the same workflow; a graph the director refuses names its field; cancel stops
/// what has not run. One subclass per backend.
/// </summary>
public abstract partial class CpctlWorkflowTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly ClusterFixture _cluster;

    protected CpctlWorkflowTests(ClusterFixture cluster) => _cluster = cluster;

    /// <summary>cpctl's environment: every director, the token.</summary>
    private Dictionary<string, string> Variables => new()
    {
        ["CONTROLPLANE_URL"] = string.Join(',', _cluster.Directors.Select(d => d.Url)),
        ["CONTROLPLANE_TOKEN"] = _cluster.Apps.Token,
    };

    private Task<CliResult> RunAsync(params string[] args) => ControlPlaneApps.RunCliAsync(args, Variables, TimeSpan.FromSeconds(120));

    [Fact]
    public async Task The_example_diamond_submitted_with_wait_runs_in_order_succeeds_and_reads_back_by_ref()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "examples", "etl-diamond.json");
        var key = "etl-" + Guid.NewGuid().ToString("N");

        var submitted = await RunAsync("workflow", "submit", "-f", file, "-k", key, "--wait", "--wait-timeout", "90s");

        Assert.True(submitted.ExitCode == 0, $"exit {submitted.ExitCode}\nstdout: {submitted.Out}\nstderr: {submitted.Error}");
        var id = WorkflowLine().Match(submitted.Out).Groups[1].Value;
        Assert.Equal(WorkflowIds.ForKey(key), id);
        Assert.Contains("jobs:     4: 4 Succeeded", submitted.Out, StringComparison.Ordinal);
        Assert.Contains("state:    Committed (finished)", submitted.Out, StringComparison.Ordinal);

        var shown = await RunAsync("workflow", "get", id);
        Assert.True(shown.ExitCode == 0, shown.Error);
        var view = await _cluster.Api.GetWorkflowAsync(id);
        var byRef = view!.Jobs.ToDictionary(n => n.Ref!, StringComparer.Ordinal);
        Assert.Equal(["load", byRef["load"].Job, "Succeeded", "transform-a,transform-b"], Row(shown.Out, "load"));
        Assert.Equal(["transform-b", byRef["transform-b"].Job, "Succeeded", "extract"], Row(shown.Out, "transform-b"));
        Assert.Equal(["extract", byRef["extract"].Job, "Succeeded", "-"], Row(shown.Out, "extract"));

        // The agents' execution logs prove the order the table claims.
        var ids = view.Jobs.Select(n => n.Job).ToHashSet(StringComparer.Ordinal);
        var runs = ExecutionLog.Intervals([.. ExecutionLog.Read(_cluster.Apps.ExecutionLogs).Where(e => ids.Contains(e.JobId))]);
        DateTimeOffset Start(string nodeRef) => runs.Single(r => r.Start.JobId == byRef[nodeRef].Job).Start.Time;
        DateTimeOffset End(string nodeRef) => runs.Single(r => r.Start.JobId == byRef[nodeRef].Job).End;
        Assert.True(Start("transform-a") >= End("extract") && Start("transform-b") >= End("extract"), "a transform started before extract ended");
        Assert.True(Start("load") >= End("transform-a") && Start("load") >= End("transform-b"), "load started before both transforms ended");

        var json = await RunAsync("workflow", "get", id, "-o", "json");
        var load = JsonDocument.Parse(json.Out).RootElement.GetProperty("jobs").EnumerateArray().Single(n => n.GetProperty("ref").GetString() == "load");
        Assert.Equal(["transform-a", "transform-b"], load.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetProperty("ref").GetString()));

        // Sent again with the key (another director first), it is the same workflow, and cpctl says so.
        var replay = await ControlPlaneApps.RunCliAsync(
            ["workflow", "submit", "-f", file, "-k", key, "-q", "--url", string.Join(',', _cluster.Directors.Reverse().Select(d => d.Url))], Variables);
        Assert.True(replay.ExitCode == 0, replay.Error);
        Assert.Equal(id, replay.Out.Trim());
        Assert.Contains("idempotency key already used", replay.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_graph_the_director_refuses_names_the_field_and_cancel_stops_what_has_not_run()
    {
        var file = Path.Combine(_cluster.Apps.Directory, $"workflow-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            {"jobs": [
              {"ref": "extract", "job": {"executor": "shell", "command": ["/bin/true"]}},
              {"ref": "load", "job": {"executor": "shell", "command": ["/bin/true"], "dependsOn": [{"ref": "extrct"}]}}
            ]}
            """);

        var refused = await RunAsync("workflow", "submit", "-f", file);

        Assert.True(refused.ExitCode == 1, $"exit {refused.ExitCode}\nstderr: {refused.Error}");
        Assert.Contains("jobs[1].job.dependsOn[0].ref: No job of this workflow has ref extrct", refused.Error, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, """
            {"name": "to-cancel", "jobs": [
              {"ref": "long", "job": {"executor": "sleep", "args": {"seconds": 60}}},
              {"ref": "next", "job": {"executor": "shell", "command": ["/bin/true"], "dependsOn": [{"ref": "long"}]}}
            ]}
            """);
        var submitted = await RunAsync("workflow", "submit", "-f", file, "-q");
        Assert.True(submitted.ExitCode == 0, submitted.Error);
        var id = submitted.Out.Trim();

        var cancelled = await RunAsync("workflow", "cancel", id);

        Assert.True(cancelled.ExitCode == 0, cancelled.Error);
        Assert.Equal($"cancellation requested: {id}", cancelled.Out.Trim());
        var done = await Eventually.UntilAsync(() => _cluster.Api.GetWorkflowAsync(id), w => w!.Finished, Deadline);
        Assert.DoesNotContain(done!.Jobs, n => n.State == JobState.Succeeded);
        var shown = await RunAsync("workflow", "get", id);
        Assert.Contains("state:    Committed (finished, cancel requested)", shown.Out, StringComparison.Ordinal);
        Assert.Equal("Cancelled", Row(shown.Out, "long")[2]);
    }

    /// <summary>The blank-separated cells of the first line that starts with <paramref name="first"/>, the error column
    /// left out.</summary>
    private static string[] Row(string output, string first) =>
        [.. output.Split('\n').First(l => l.StartsWith(first + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4)];

    [GeneratedRegex("^workflow: ([0-9a-f]{32})", RegexOptions.Multiline)]
    private static partial Regex WorkflowLine();
}

/// <summary>cpctl workflow on ZooKeeper.</summary>
[Collection(ZooKeeperClusterCollection.Name)]
public sealed class ZooKeeperCpctlWorkflowTests(ZooKeeperClusterFixture cluster) : CpctlWorkflowTests(cluster);

/// <summary>cpctl workflow on etcd.</summary>
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdCpctlWorkflowTests(EtcdClusterFixture cluster) : CpctlWorkflowTests(cluster);
