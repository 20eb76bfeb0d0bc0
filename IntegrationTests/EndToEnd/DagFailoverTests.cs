using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Dependencies across real failures (issue 19): three director processes and two agents on a three-member store; a
/// diamond and a 200-node random DAG are submitted, and the leader is killed (-9) twice while they run. Every node
/// must succeed exactly once, each start after the end of everything it depends on, with no overlapping attempts:
/// the agents' execution logs are the proof. One subclass per backend.
/// </summary>
public abstract class DagFailoverTests : ProcessFailoverTests
{
    private const int Nodes = 200;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    protected DagFailoverTests(ITestOutputHelper output)
        : base(output, "e2e-dag")
    {
    }

    [Fact]
    public async Task A_diamond_and_a_random_dag_run_every_node_once_in_order_through_two_leader_kills()
    {
        var (_, directors) = await StartAsync("dag");
        var alive = directors.ToList();

        // The diamond, then a random DAG whose node i depends on up to three earlier nodes. Seeded: a failure names its graph.
        var seed = Environment.TickCount;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var graph = new List<(JobView Job, string[] After)>();
        async Task<JobView> AddAsync(params JobView[] after)
        {
            var job = await SubmitWithRetryAsync(alive, new JobSpec
            {
                Executor = "shell",
                Command = ["/bin/sh", "-c", $"sleep 0.0{random.Next(1, 6)}"],
                DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Job = a.Id })],
            }, $"dag-{seed}-{graph.Count}");
            graph.Add((job, [.. after.Select(a => a.Id)]));
            return job;
        }

        var top = await AddAsync();
        var left = await AddAsync(top);
        var right = await AddAsync(top);
        await AddAsync(left, right);
        var killed = 0;
        for (var i = 0; i < Nodes; i++)
        {
            var earlier = graph.Skip(4).Select(g => g.Job).ToList();
            var parents = earlier.Count == 0 ? [] : Enumerable.Range(0, random.Next(0, 4)).Select(_ => earlier[random.Next(earlier.Count)]).DistinctBy(j => j.Id).ToArray();
            await AddAsync(parents);

            // Kill the leader while the graph is both being submitted and running, twice.
            if (i is 60 or 140)
            {
                await KillLeaderAsync(alive, Deadline);
                killed++;
            }
        }

        Assert.Equal(2, killed);
        var final = await Task.WhenAll(graph.Select(g => alive[0].Client.WaitForTerminalAsync(g.Job.Id, Deadline)));

        Assert.All(final, j => Assert.True(j.State == JobState.Succeeded, $"job {j.Id} ended {j.State}: {j.Error}"));
        var ids = graph.Select(g => g.Job.Id).ToHashSet(StringComparer.Ordinal);
        var events = ExecutionLog.Read(Apps.ExecutionLogs).Where(e => ids.Contains(e.JobId)).ToList();
        Assert.Empty(ExecutionLog.Overlaps(events));
        var runs = ExecutionLog.Intervals(events).GroupBy(r => r.Start.JobId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (job, after) in graph)
        {
            var run = Assert.Single(runs[job.Id]); // exactly once: no agent died, so no attempt was lost
            foreach (var dependency in after)
            {
                var end = Assert.Single(runs[dependency]).End;
                Assert.True(run.Start.Time >= end, $"job {job.Id} started at {run.Start.Time:O}, before its dependency {dependency} ended at {end:O}");
            }
        }

        Output.WriteLine($"{graph.Count} jobs, {graph.Sum(g => g.After.Length)} edges, every one after its dependencies");
    }

    [Fact]
    public async Task A_diamond_and_a_random_dag_submitted_as_one_workflow_run_every_node_once_in_order_through_two_leader_kills()
    {
        var (_, directors) = await StartAsync("dag-workflow");
        var alive = directors.ToList();

        // The same shape as the test above, written at once: node i depends on up to three earlier nodes by ref.
        var seed = Environment.TickCount;
        Output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var nodes = new List<WorkflowNode>();
        void Add(params string[] after) => nodes.Add(new WorkflowNode
        {
            Ref = $"n{nodes.Count}",
            Job = new JobSpec
            {
                Executor = "shell",
                Command = ["/bin/sh", "-c", $"sleep 0.{random.Next(1, 4)}"],
                DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Ref = a })],
            },
        });
        Add();
        Add("n0");
        Add("n0");
        Add("n1", "n2");
        for (var i = 0; i < Nodes; i++)
        {
            var earlier = nodes.Skip(4).Select(n => n.Ref).ToList();
            Add(earlier.Count == 0 ? [] : [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => earlier[random.Next(earlier.Count)]).Distinct()]);
        }

        var key = $"dag-workflow-{seed}";
        var workflow = await Eventually.UntilAsync(
            async () =>
            {
                foreach (var director in alive)
                {
                    try
                    {
                        return await director.Client.SubmitWorkflowAsync(new WorkflowSpec { Name = "random dag", Jobs = nodes }, key);
                    }
                    catch (HttpRequestException)
                    {
                        // 503 while it has no store session: the next one (the key makes a repeat the same workflow).
                    }
                }

                return null;
            },
            w => w is not null,
            Deadline);

        // Kill the leader twice while the graph runs: once a fifth of it has succeeded, and again at three fifths.
        foreach (var share in new[] { 5, 5 * 3 })
        {
            var seen = await Eventually.UntilAsync(
                () => alive[0].Client.GetWorkflowAsync(workflow!.Id),
                w => w!.Counts.GetValueOrDefault(nameof(JobState.Succeeded)) * 25 >= w.Jobs.Count * share, Deadline);
            Assert.False(seen!.Finished, "the graph finished before the leader could be killed during it");
            await KillLeaderAsync(alive, Deadline);
        }

        var done = await Eventually.UntilAsync(() => alive[0].Client.GetWorkflowAsync(workflow!.Id), w => w!.Finished, Deadline);

        Assert.All(done!.Jobs, n => Assert.True(n.State == JobState.Succeeded, $"{n.Ref} ({n.Job}) ended {n.State}: {n.Error}"));
        var ids = done.Jobs.ToDictionary(n => n.Job, StringComparer.Ordinal);
        var events = ExecutionLog.Read(Apps.ExecutionLogs).Where(e => ids.ContainsKey(e.JobId)).ToList();
        Assert.Empty(ExecutionLog.Overlaps(events));
        var runs = ExecutionLog.Intervals(events).GroupBy(r => r.Start.JobId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var node in done.Jobs)
        {
            var run = Assert.Single(runs[node.Job]);
            foreach (var dependency in node.DependsOn)
            {
                var end = Assert.Single(runs[dependency.Job]).End;
                Assert.True(run.Start.Time >= end, $"{node.Ref} started at {run.Start.Time:O}, before its dependency {dependency.Ref} ended at {end:O}");
            }
        }

        Output.WriteLine($"{done.Jobs.Count} jobs, {done.Jobs.Sum(n => n.DependsOn.Count)} edges, every one after its dependencies");
    }

    /// <summary>Submits through the live directors in turn: a keyed submission is the same job whichever answers.</summary>
    private static async Task<JobView> SubmitWithRetryAsync(List<DirectorProcess> alive, JobSpec spec, string key) =>
        await Eventually.UntilAsync(
            async () =>
            {
                foreach (var director in alive)
                {
                    try
                    {
                        return await director.Client.SubmitAsync(spec, key);
                    }
                    catch (HttpRequestException)
                    {
                        // Killed, or 503 while it has no store session: the next one, and again until the deadline.
                    }
                }

                return null;
            },
            job => job is not null,
            Deadline) ?? throw new InvalidOperationException("unreachable");

}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperDagFailoverTests(ITestOutputHelper output) : DagFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdDagFailoverTests(ITestOutputHelper output) : DagFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
