using System.Diagnostics;
using System.Text.RegularExpressions;
using ControlPlane.Client;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// One large workflow (issue 19) in one <c>POST /v1/workflows</c>. <c>workflow --backend zookeeper|etcd --nodes 10000
/// --joins 10</c>. The waiting scenario's setup (<see cref="WaitingBench"/>): one director (the leader), a single-member
/// store, simulated agents that finish every attempt the moment it is assigned (<see cref="InstantAgents"/>). The graph:
/// root → <c>nodes − joins − 2</c> middle nodes (each on root) → <c>--joins</c> join nodes (each on its share of the
/// middles, at most <see cref="Limits.MaxDependencies"/>) → sink (on every join). In the same run, a workflow of as
/// many nodes without edges, so the difference of the two makespans (commit → last finish) is what the edges cost. Each
/// run's jobs require a pool whose <c>--workers</c> × <c>--slots</c> simulated workers register before the POST, so
/// nothing but the workflow's gate holds them back. Measured per run: the POST until its 201 (split, by the record's
/// timestamps, into acceptance, the chunks and the commit, and the answer), the chunks (the director's log), the
/// timeline from the commit (the leader's placement and fold times of the jobs), the leader's passes and CPU while
/// staging and while running, and <c>--gets</c> reads of <c>GET /v1/workflows/{id}</c>. A warm-up of each shape at
/// <c>--warm-nodes</c> (default: <c>--nodes</c>) runs first, unmeasured (0 skips it); the flat run goes before the graph
/// unless <c>--dag-first</c>.
/// </summary>
internal sealed partial class WorkflowBench : IScenario
{
    /// <summary>Simulated agents report Running and the result in one write (see <see cref="WaitingBench"/>); the
    /// submission's log line (chunks) is Information, the directors' default level in a bench is Warning.</summary>
    private static readonly string[] DirectorArgs =
        ["--Scheduler:StartTimeout=1.00:00:00", "--Logging:LogLevel:ControlPlane.Director.Api.WorkflowSubmission=Information"];

    public string Name => "workflow";

    public string Summary => "A 10,000-node fan-out/fan-in workflow in one POST /v1/workflows: submission, release of each level, overhead per edge vs no edges, GET of it (--backend zookeeper|etcd --nodes 10000 --joins 10)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var nodes = options.Int("nodes", Limits.MaxWorkflowNodes);
        var s = new Settings(
            options.String("backend") ?? "zookeeper",
            TimeSpan.FromSeconds(options.Int("session-timeout", 10)),
            nodes,
            options.Int("joins", 10),
            options.Int("warm-nodes", nodes),
            options.Int("workers", 10),
            options.Int("slots", 1000),
            options.Int("gets", 3),
            TimeSpan.FromSeconds(options.Int("run-timeout-seconds", 600)),
            options.String("dag-first") == "true");
        Check(s.Nodes, s.Joins, "--nodes");
        if (s.WarmNodes != 0)
        {
            Check(s.WarmNodes, s.Joins, "--warm-nodes");
        }

        await using var cluster = await BenchCluster.StartAsync(s.Backend, 1, 0, 1, s.SessionTimeout, DirectorArgs, cancellationToken).ConfigureAwait(false);
        var leader = await WaitingBench.LeaderAsync(cluster, cancellationToken).ConfigureAwait(false);
        await using var agents = await InstantAgents.StartAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        await using var workers = new SimulatedAgents();
        using var client = ControlPlaneClient.Create(o =>
        {
            o.Directors.Add(cluster.Directors[0].Url);
            o.Token = cluster.Directors[0].Token;
            // One POST, timed as it is: the director has 2 min to stage it (WorkflowSubmission.StagingTimeout), and a
            // repeat would be a second submission in the figures.
            o.AttemptTimeout = TimeSpan.FromMinutes(3);
            o.MaxRetryAttempts = 0;
        });
        var rig = new Rig(cluster, leader, workers, client, s);
        var runs = new List<Run>();
        if (s.WarmNodes > 0)
        {
            // The same shapes first, unmeasured: the measured runs meet compiled, tiered code and grown heaps. At a tenth
            // of the size that was not enough: on etcd the first 10,000-node run took up to twice the makespan of the
            // same run after it.
            runs.Add(await RunOneAsync(rig, "warm-flat", s.WarmNodes, 0, cancellationToken).ConfigureAwait(false));
            runs.Add(await RunOneAsync(rig, "warm-dag", s.WarmNodes, s.Joins, cancellationToken).ConfigureAwait(false));
        }

        Run flat, dag;
        if (s.DagFirst)
        {
            dag = await RunOneAsync(rig, "dag", s.Nodes, s.Joins, cancellationToken).ConfigureAwait(false);
            flat = await RunOneAsync(rig, "flat", s.Nodes, 0, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            flat = await RunOneAsync(rig, "flat", s.Nodes, 0, cancellationToken).ConfigureAwait(false);
            dag = await RunOneAsync(rig, "dag", s.Nodes, s.Joins, cancellationToken).ConfigureAwait(false);
        }

        var warnings = WaitingBench.DirectorWarnings(leader);
        Report(s, flat, dag, agents.Failed, warnings);
        return runs.Append(flat).Append(dag).All(r => r.Error is null && r.MakespanSeconds is not null) && agents.Failed == 0 && warnings.Values.All(v => v == 0)
            ? 0
            : 1;
    }

    private sealed record Settings(
        string Backend, TimeSpan SessionTimeout, int Nodes, int Joins, int WarmNodes, int Workers, int Slots, int Gets, TimeSpan RunTimeout, bool DagFirst);

    /// <summary>The cluster and clients a run uses.</summary>
    private sealed record Rig(BenchCluster Cluster, DirectorProcess Leader, SimulatedAgents Workers, ControlPlaneClient Client, Settings Settings);

    /// <summary>The leader's counters at one moment.</summary>
    private sealed record Snapshot(SortedDictionary<double, double> Buckets, double PassSeconds, double Passes, double Finishes, double Releases, double CpuSeconds);

    /// <summary>What the leader did between two snapshots: passes (count, mean, p99 and max as histogram bounds),
    /// releases committed, CPU. A run reports two spans: during the POST (the staging, and whatever followed the
    /// commit before the answer arrived) and the whole run, from before the POST to the last job's fold.</summary>
    private sealed record LeaderWork(long Passes, double MeanMs, double? P99Ms, double? MaxMs, long Releases, double CpuSeconds);

    /// <summary>
    /// One measured run. Times in seconds; "start" is a job's placement (<c>assignedAt</c>), "end" its fold
    /// (<c>finishedAt</c>), both the leader's clock; the commit is the workflow record's <c>committedAt</c> (the same
    /// process's clock: one director). Null where it does not apply (a run without edges has no root) or did not happen.
    /// </summary>
    private sealed record Run(
        string Name, int Nodes, int Edges, string? WorkflowId, int? Chunks, double SubmitSeconds, double? AcceptSeconds, double? StagingSeconds, double? AnswerSeconds,
        double? CommitToFirstStart, double? CommitToLastStart, double? CommitToRootStart, double? RootStartToEnd, double? RootEndToFirstMiddleStart,
        double? RootEndToLastMiddleStart, double? LastMiddleEndToLastJoinStart, double? LastJoinEndToSinkStart, double? LastMiddleEndToSinkStart,
        double? MakespanSeconds, LeaderWork DuringPost, LeaderWork Whole, IReadOnlyList<double> GetMs, int Finished, double Load, string? Error)
    {
        /// <summary>The POST's body, and what serializing and validating it cost in the bench's process (the client
        /// library and the director run the same code on it): the part of the acceptance that is CPU.</summary>
        public Body? Body { get; init; }

        /// <summary>The same GETs' bodies: bytes, and what deserializing one costs the bench (the rest of a GET is the
        /// director's reads and its answer).</summary>
        public (long Bytes, double DeserializeMs)? GetBody { get; init; }

        /// <summary>The director's watches that overflowed (fell more than their buffer behind and re-read their
        /// subtree) during the POST and after it, from its log.</summary>
        public (int DuringPost, int After) Overflows { get; init; }

        /// <summary>Seconds after the commit at which the bench saw the leader complete a pass longer than 1 s
        /// (polled every 100 ms; the first poll after the pass).</summary>
        public IReadOnlyList<double> SlowPassesAt { get; init; } = [];
    }

    /// <summary>A POST body: its bytes, and the ms to serialize and to validate it (<see cref="WorkflowValidator"/>).</summary>
    private sealed record Body(long Bytes, double SerializeMs, double ValidateMs);

    /// <summary>Refuses a shape the API would refuse, or one without a middle node per join, before anything starts.</summary>
    private static void Check(int nodes, int joins, string option)
    {
        var middles = nodes - joins - 2;
        if (nodes > Limits.MaxWorkflowNodes || joins < 1 || joins > Limits.MaxDependencies || middles < joins
            || (middles + joins - 1) / joins > Limits.MaxDependencies)
        {
            throw new ArgumentException(
                $"{option} {nodes} with --joins {joins}: a workflow has at most {Limits.MaxWorkflowNodes} nodes, and root + middles + joins + sink needs "
                + $"1 to {Limits.MaxDependencies} joins, at least one middle node per join and at most {Limits.MaxDependencies} per join.");
        }
    }

    /// <summary>
    /// The graph (<paramref name="joins"/> &gt; 0) or as many nodes without edges, each requiring <c>pool=</c><paramref name="pool"/>.
    /// Graph nodes in order: root (index 0), the middles, the joins, the sink (last). Returns the spec and its edges.
    /// </summary>
    private static (WorkflowSpec Spec, int Edges) Shape(string pool, int nodes, int joins)
    {
        if (joins == 0)
        {
            return (new WorkflowSpec { Name = pool, Jobs = [.. Enumerable.Range(0, nodes).Select(i => Node($"n-{i}", []))] }, 0);
        }

        var middles = nodes - joins - 2;
        var jobs = new List<WorkflowNode>(nodes) { Node("root", []) };
        jobs.AddRange(Enumerable.Range(0, middles).Select(m => Node($"m-{m}", ["root"])));
        jobs.AddRange(Enumerable.Range(0, joins).Select(j =>
            Node($"j-{j}", [.. Enumerable.Range(j * middles / joins, ((j + 1) * middles / joins) - (j * middles / joins)).Select(m => $"m-{m}")])));
        jobs.Add(Node("sink", [.. Enumerable.Range(0, joins).Select(j => $"j-{j}")]));
        return (new WorkflowSpec { Name = pool, Jobs = jobs }, (2 * middles) + joins);

        WorkflowNode Node(string name, string[] on) => new()
        {
            Ref = name,
            Job = WaitingBench.Spec(pool, on.Length == 0 ? null : [.. on.Select(r => new JobDependency { Ref = r })]),
        };
    }

    /// <summary>
    /// Registers the run's workers, submits the workflow in one POST, waits (at most <c>--run-timeout-seconds</c>) until
    /// the leader has folded every job's result, reads the workflow <c>--gets</c> times, then the jobs' times.
    /// </summary>
    private static async Task<Run> RunOneAsync(Rig rig, string name, int nodes, int joins, CancellationToken cancellationToken)
    {
        var (leader, client, s) = (rig.Leader, rig.Client, rig.Settings);
        var (spec, edges) = Shape(name, nodes, joins);
        await rig.Workers.RegisterAsync(rig.Cluster.Target, name, s.Workers, s.Workers, 1, cancellationToken, s.Slots, name).ConfigureAwait(false);

        var serializing = Stopwatch.GetTimestamp();
        var bytes = ContractJson.Serialize(spec).Length;
        var serializeMs = Stopwatch.GetElapsedTime(serializing).TotalMilliseconds;
        var validating = Stopwatch.GetTimestamp();
        var invalid = WorkflowValidator.Validate(spec).Count;
        var body = new Body(bytes, serializeMs, Stopwatch.GetElapsedTime(validating).TotalMilliseconds);
        if (invalid > 0)
        {
            throw new InvalidOperationException($"The bench's own {name} workflow is invalid: {string.Join("; ", WorkflowValidator.Validate(spec).Select(e => $"{e.Field}: {e.Message}"))}");
        }

        var overflowsBefore = Overflows(leader);
        var before = await SnapshotAsync(leader, cancellationToken).ConfigureAwait(false);
        var postedAt = DateTimeOffset.UtcNow;
        var posting = Stopwatch.GetTimestamp();
        WorkflowView? created = null;
        string? error = null;
        try
        {
            created = await client.SubmitWorkflowAsync(spec, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (ControlPlaneException e)
        {
            error = $"POST /v1/workflows: {e.Message}";
        }

        var submitSeconds = Stopwatch.GetElapsedTime(posting).TotalSeconds;
        var answeredAt = DateTimeOffset.UtcNow;
        var submitted = await SnapshotAsync(leader, cancellationToken).ConfigureAwait(false);
        var staging = Between(before, submitted);
        var overflowsPosted = Overflows(leader);
        if (created is null)
        {
            await Console.Error.WriteLineAsync($"{name}: {error} after {submitSeconds:0.00} s; the director's log: {leader.Process.LogPath}\n{leader.Process.LogTail(20)}")
                .ConfigureAwait(false);
            return Emit(new Run(
                name, nodes, edges, null, null, submitSeconds, null, null, null, null, null, null, null, null, null, null, null, null, null,
                staging, staging, [], 0, BenchReport.LoadAverage(), error) { Body = body, Overflows = (overflowsPosted - overflowsBefore, 0) });
        }

        var slowPasses = new List<DateTimeOffset>();
        var slowSoFar = Slow(submitted);
        var done = await WaitingBench.PollAsync(
            async () =>
            {
                var now = await SnapshotAsync(leader, cancellationToken).ConfigureAwait(false);
                for (var slow = Slow(now); slowSoFar < slow; slowSoFar++)
                {
                    slowPasses.Add(DateTimeOffset.UtcNow);
                }

                return now.Finishes - before.Finishes >= nodes;
            },
            TimeSpan.FromMilliseconds(100), s.RunTimeout, cancellationToken).ConfigureAwait(false);
        var after = await SnapshotAsync(leader, cancellationToken).ConfigureAwait(false);
        var running = Between(before, after);
        var load = BenchReport.LoadAverage();
        error = done is null ? $"not every job finished within {s.RunTimeout.TotalSeconds:0} s" : null;

        // The workflow as GET shows it (each read reads every job, 64 at a time); the last one's record times the submission.
        var getMs = new List<double>();
        var view = created;
        for (var i = 0; i < s.Gets; i++)
        {
            var reading = Stopwatch.GetTimestamp();
            view = await client.GetWorkflowAsync(created.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
            getMs.Add(Stopwatch.GetElapsedTime(reading).TotalMilliseconds);
        }

        (long Bytes, double DeserializeMs)? getBody = null;
        if (s.Gets > 0)
        {
            // One more read, raw, for its size and what parsing it costs a client.
            var raw = await leader.Client.Http.GetByteArrayAsync(new Uri($"/v1/workflows/{created.Id}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            var parsing = Stopwatch.GetTimestamp();
            _ = ContractJson.Deserialize<WorkflowView>(raw);
            getBody = (raw.Length, Stopwatch.GetElapsedTime(parsing).TotalMilliseconds);
        }

        // Placement and fold times of the workflow's jobs (one listing of the Succeeded jobs, 500 a page).
        var ids = Enumerable.Range(0, nodes).Select(i => WorkflowIds.NodeJobId(created.Id, i)).ToArray();
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var jobs = new Dictionary<string, (DateTimeOffset Start, DateTimeOffset End)>(StringComparer.Ordinal);
        await foreach (var job in client.ListJobsAsync(new JobFilter { State = JobState.Succeeded, PageSize = 500 }, cancellationToken).ConfigureAwait(false))
        {
            if (wanted.Contains(job.Id) && job is { AssignedAt: { } start, FinishedAt: { } end })
            {
                jobs[job.Id] = (start, end);
            }
        }

        var complete = error is null && jobs.Count == nodes;
        var committed = view.CommittedAt;
        double? Span(DateTimeOffset? from, DateTimeOffset? to) => complete && from is { } f && to is { } t ? (t - f).TotalSeconds : null;
        DateTimeOffset? Max(IEnumerable<string> of, Func<(DateTimeOffset Start, DateTimeOffset End), DateTimeOffset> at) => complete ? of.Max(id => at(jobs[id])) : null;
        DateTimeOffset? Min(IEnumerable<string> of, Func<(DateTimeOffset Start, DateTimeOffset End), DateTimeOffset> at) => complete ? of.Min(id => at(jobs[id])) : null;
        var lastEnd = Max(ids, j => j.End);
        var run = new Run(
            name, nodes, edges, created.Id, Chunks(leader, created.Id), submitSeconds,
            (view.CreatedAt - postedAt).TotalSeconds,
            committed is { } c ? (c - view.CreatedAt).TotalSeconds : null,
            committed is { } c2 ? (answeredAt - c2).TotalSeconds : null,
            Span(committed, Min(ids, j => j.Start)), Span(committed, Max(ids, j => j.Start)),
            null, null, null, null, null, null, null, Span(committed, lastEnd), staging, running, getMs, jobs.Count, load, error)
        {
            Body = body,
            GetBody = getBody,
            Overflows = (overflowsPosted - overflowsBefore, Overflows(leader) - overflowsPosted),
            SlowPassesAt = committed is { } at ? [.. slowPasses.Select(p => Math.Round((p - at).TotalSeconds, 1))] : [],
        };
        if (joins > 0 && complete)
        {
            var middles = ids[1..(nodes - joins - 1)];
            var joinIds = ids[(nodes - joins - 1)..^1];
            var (root, sink) = (jobs[ids[0]], jobs[ids[^1]]);
            var lastMiddleEnd = Max(middles, j => j.End);
            run = run with
            {
                CommitToRootStart = Span(committed, root.Start),
                RootStartToEnd = Span(root.Start, root.End),
                RootEndToFirstMiddleStart = Span(root.End, Min(middles, j => j.Start)),
                RootEndToLastMiddleStart = Span(root.End, Max(middles, j => j.Start)),
                LastMiddleEndToLastJoinStart = Span(lastMiddleEnd, Max(joinIds, j => j.Start)),
                LastJoinEndToSinkStart = Span(Max(joinIds, j => j.End), sink.Start),
                LastMiddleEndToSinkStart = Span(lastMiddleEnd, sink.Start),
            };
        }

        return Emit(run);
    }

    /// <summary>Chunks the director wrote workflow <paramref name="workflowId"/> in, from its log line "Accepted workflow
    /// … in N chunks", or null.</summary>
    private static int? Chunks(DirectorProcess director, string workflowId)
    {
        var lines = Regex.Matches(director.Process.LogTail(int.MaxValue), @"Accepted workflow (?<id>[0-9a-f]+) of \d+ jobs in (?<chunks>\d+) chunks");
        var match = lines.LastOrDefault(m => m.Groups["id"].Value == workflowId);
        return match is null ? null : int.Parse(match.Groups["chunks"].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<Snapshot> SnapshotAsync(DirectorProcess leader, CancellationToken cancellationToken)
    {
        const string Writes = "controlplane_scheduler_writes_total";
        var buckets = await DirectorMetricsScrape.PassBucketsAsync(leader, cancellationToken).ConfigureAwait(false);
        var passes = await DirectorMetricsScrape.ScrapeAsync(leader, "controlplane_scheduler_pass_duration_seconds", cancellationToken).ConfigureAwait(false);
        var finishes = await DirectorMetricsScrape.ScrapeAsync(leader, "kind=\"finish\"", cancellationToken).ConfigureAwait(false);
        var releases = await DirectorMetricsScrape.ScrapeAsync(leader, "kind=\"release\"", cancellationToken).ConfigureAwait(false);
        return new Snapshot(
            buckets, passes.GetValueOrDefault("controlplane_scheduler_pass_duration_seconds_sum"), passes.GetValueOrDefault("controlplane_scheduler_pass_duration_seconds_count"),
            finishes.GetValueOrDefault(Writes), releases.GetValueOrDefault(Writes), BenchReport.CpuSeconds(leader.Process.ProcessId));
    }

    /// <summary>Watch overflows the director has logged so far (see <see cref="WaitingBench.DirectorWarnings"/>).</summary>
    private static int Overflows(DirectorProcess director) =>
        Regex.Count(director.Process.LogTail(int.MaxValue), "ended: its reader fell behind");

    /// <summary>Passes longer than 1 s so far (the pass histogram's count above its 1 s bound).</summary>
    private static long Slow(Snapshot snapshot) =>
        (long)(snapshot.Buckets.GetValueOrDefault(double.PositiveInfinity) - snapshot.Buckets.Where(b => b.Key <= 1.0).Select(b => b.Value).DefaultIfEmpty(0).Max());

    private static LeaderWork Between(Snapshot a, Snapshot b)
    {
        var passes = b.Passes - a.Passes;
        var (p99, _) = DirectorMetricsScrape.Quantile(a.Buckets, b.Buckets, 0.99);
        var (max, _) = DirectorMetricsScrape.Quantile(a.Buckets, b.Buckets, 1.0);
        return new LeaderWork((long)passes, passes > 0 ? (b.PassSeconds - a.PassSeconds) * 1000 / passes : double.NaN, p99, max, (long)(b.Releases - a.Releases), b.CpuSeconds - a.CpuSeconds);
    }
}
