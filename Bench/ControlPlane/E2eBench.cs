using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Jobs per second and submission-to-completion latency through the whole system: J echo jobs submitted by C
/// concurrent clients spread over N directors, run by M agents, on a store started for the run.
/// <c>e2e --backend zookeeper|etcd --directors 3 --agents 4 --slots 16 --jobs 2000 --concurrency 32</c>.
/// <c>--warmup W</c> (default 1,000) jobs run first, unmeasured, and the leaderless directors get as many unmeasured
/// submissions: both sides of the ratio are measured on warm processes.
/// Latency is the job's finish time (the agent's report, which the leader copies into the job) minus its creation
/// time (the accepting director's clock; one machine, one clock); it is split into queue (created → assigned), start
/// (assigned → the agent's Running) and run (Running → the agent's finish). The job reads as terminal in the API one
/// leader pass after its finish time. Throughput is jobs over the time from the first submission to the last finish.
/// Then, in the same run and on the same store, the directors are replaced by as many started with
/// <c>Director:Campaign=false</c> and the api scenario's closed-loop POST load (C in flight, at least J requests,
/// at most 15 s) measures the rate at which the same directors accept jobs when nobody leads. Jobs/s ÷ that accept rate is the share of the store's capacity the scheduler turns
/// into finished jobs (about four store writes a job against one a submission bound it near 0.25).
/// </summary>
internal sealed class E2eBench : IScenario
{
    public string Name => "e2e";

    public string Summary => "whole system: jobs/s and submit-to-finish latency (--backend zookeeper|etcd --directors 3 --agents 4 --jobs 2000 --concurrency 32)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var jobs = options.Int("jobs", 2000);
        var concurrency = options.Int("concurrency", 32);
        var directors = options.Int("directors", 3);
        var agents = options.Int("agents", 4);
        var slots = options.Int("slots", 16);
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        var warmup = options.Int("warmup", 1000);
        await using var cluster = await BenchCluster.StartAsync(backend, directors, agents, slots, sessionTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        var load = BenchReport.LoadAverage();

        // Unmeasured jobs first, so the measured ones meet processes whose code is compiled and tiered, as a
        // long-running deployment's are: without them a short run measures the JIT as much as the scheduler.
        if (warmup > 0)
        {
            var (warmupIds, _, _) = await SubmitAsync(cluster, warmup, concurrency, cancellationToken).ConfigureAwait(false);
            await WaitForFinishAsync(cluster, warmupIds, cancellationToken).ConfigureAwait(false);
        }

        // CPU of every process over the run, by role: where a job's cost goes on this machine.
        var cpuBefore = CpuByProcess(cluster);
        var startedAt = DateTimeOffset.UtcNow;
        var (ids, submitLatency, submitSeconds) = await SubmitAsync(cluster, jobs, concurrency, cancellationToken).ConfigureAwait(false);
        var done = await WaitForFinishAsync(cluster, ids, cancellationToken).ConfigureAwait(false);

        // The leader's scheduler over the run: how many passes, and how long they took on average.
        var leaderName = (await cluster.Directors[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false))?.DirectorId;
        var leader = cluster.Directors.FirstOrDefault(d => d.Process.Name == leaderName);
        var scheduler = leader is null ? [] : await DirectorMetricsScrape.ScrapeAsync(leader, null, cancellationToken).ConfigureAwait(false);
        var passes = scheduler.GetValueOrDefault("controlplane_scheduler_pass_duration_seconds_count");
        var passMs = passes > 0 ? scheduler.GetValueOrDefault("controlplane_scheduler_pass_duration_seconds_sum") * 1000 / passes : double.NaN;
        var finished = done.Where(j => j.FinishedAt is not null).ToList();
        var lastFinish = finished.Count == 0 ? DateTimeOffset.UtcNow : finished.Max(j => j.FinishedAt!.Value);
        var totalSeconds = (lastFinish - startedAt).TotalSeconds;
        static List<double> Span(IEnumerable<JobView> js, Func<JobView, DateTimeOffset?> from, Func<JobView, DateTimeOffset?> to) =>
            js.Where(j => from(j) is not null && to(j) is not null).Select(j => (to(j)!.Value - from(j)!.Value).TotalMilliseconds).ToList();
        var (p50, p90, p99, max) = Percentiles.Of(Span(finished, j => j.CreatedAt, j => j.FinishedAt));
        var (q50, _, q99, _) = Percentiles.Of(Span(finished, j => j.CreatedAt, j => j.AssignedAt));
        var (st50, _, st99, _) = Percentiles.Of(Span(finished, j => j.AssignedAt, j => j.StartedAt));
        var (f50, _, f99, _) = Percentiles.Of(Span(finished, j => j.StartedAt, j => j.FinishedAt));
        var (s50, _, s99, _) = Percentiles.Of([.. submitLatency]);
        var succeeded = done.Count(j => j.State == JobState.Succeeded);
        var submitRate = jobs / submitSeconds;
        var jobRate = done.Count / totalSeconds;
        var leaderCpu = leader is null ? (double?)null : BenchReport.CpuSeconds(leader.Process.ProcessId);
        var cpuAfter = CpuByProcess(cluster);
        var cpuPerJobMs = cpuAfter
            .GroupBy(p => Role(p.Key, leaderName), p => p.Value - cpuBefore.GetValueOrDefault(p.Key))
            .ToDictionary(g => g.Key, g => BenchReport.Round(g.Sum() * 1000 / Math.Max(1, done.Count), 2));

        // The same directors with nobody leading: what they accept when the scheduler costs the store nothing.
        // The api scenario's closed-loop load (raw POSTs, one HTTP client per director), so the figure is what the
        // directors and the store accept, not what the bench's own client can send.
        await cluster.ReplaceDirectorsAsync(["--Director:Campaign=false"], cancellationToken).ConfigureAwait(false);
        using var api = new ApiLoad(cluster.Directors, new JobSpec { Executor = "echo", Args = JsonDocument.Parse("""{"bench":true}""").RootElement });
        if (warmup > 0)
        {
            // The new directors warm up as the measured ones did: the same number of unmeasured submissions.
            _ = await api.RunAsync(concurrency, TimeSpan.FromSeconds(15), warmup, Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        }

        var acceptStarted = Stopwatch.GetTimestamp();
        var accepted = (await api.RunAsync(concurrency, TimeSpan.FromSeconds(15), Math.Max(jobs, 20_000), acceptStarted, cancellationToken).ConfigureAwait(false))
            .Count(r => r.Status == 201);
        var acceptRate = accepted / Stopwatch.GetElapsedTime(acceptStarted).TotalSeconds;
        BenchReport.Json(new
        {
            scenario = "e2e", backend, directors, agents, slots, jobs, warmup, concurrency, sessionTimeoutSeconds = sessionTimeout.TotalSeconds,
            completed = done.Count, succeeded,
            submitPerSecond = BenchReport.Round(submitRate), jobsPerSecond = BenchReport.Round(jobRate),
            submitP50Ms = BenchReport.Round(s50), submitP99Ms = BenchReport.Round(s99),
            latencyP50Ms = BenchReport.Round(p50), latencyP90Ms = BenchReport.Round(p90), latencyP99Ms = BenchReport.Round(p99), latencyMaxMs = BenchReport.Round(max),
            queueP50Ms = BenchReport.Round(q50), queueP99Ms = BenchReport.Round(q99),
            startP50Ms = BenchReport.Round(st50), startP99Ms = BenchReport.Round(st99),
            runP50Ms = BenchReport.Round(f50), runP99Ms = BenchReport.Round(f99),
            leaderPasses = passes, leaderPassMeanMs = BenchReport.Round(passMs, 2),
            leaderBatchesRefused = scheduler.GetValueOrDefault("controlplane_scheduler_batches_refused_total"),
            leaderWrites = scheduler.GetValueOrDefault("controlplane_scheduler_writes_total"),
            leaderCpuSeconds = leaderCpu is { } cpu ? BenchReport.Round(cpu, 1) : null,
            cpuMsPerJob = cpuPerJobMs,
            leaderlessAcceptPerSecond = BenchReport.Round(acceptRate), jobsPerAccepted = BenchReport.Round(jobRate / acceptRate, 3),
            loadAverage = load,
        });
        BenchReport.Table(
            ["backend", "jobs", "done", "ok", "submit/s", "jobs/s", "leaderless accept/s", "jobs/s ÷ accept/s", "submit p50/p99 ms", "latency p50/p90/p99/max ms", "queue/start/run p50 ms"],
            [[backend, $"{jobs}", $"{done.Count}", $"{succeeded}", BenchReport.Cell(submitRate), BenchReport.Cell(jobRate),
              BenchReport.Cell(acceptRate), BenchReport.Cell(jobRate / acceptRate, "0.000"),
              $"{BenchReport.Cell(s50)} / {BenchReport.Cell(s99)}",
              $"{BenchReport.Cell(p50)} / {BenchReport.Cell(p90)} / {BenchReport.Cell(p99)} / {BenchReport.Cell(max)}",
              $"{BenchReport.Cell(q50)} / {BenchReport.Cell(st50)} / {BenchReport.Cell(f50)}"]]);
        return done.Count == jobs ? 0 : 1;
    }

    /// <summary>CPU seconds used so far by every process of the run (directors and agents by name, store members as
    /// <c>store-N</c>, the bench itself as <c>bench</c>).</summary>
    private static Dictionary<string, double> CpuByProcess(BenchCluster cluster)
    {
        var cpu = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["bench"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        };
        foreach (var director in cluster.Directors)
        {
            cpu[director.Process.Name] = BenchReport.CpuSeconds(director.Process.ProcessId);
        }

        foreach (var agent in cluster.Agents)
        {
            cpu[agent.Name] = BenchReport.CpuSeconds(agent.ProcessId);
        }

        foreach (var member in cluster.Servers.Members)
        {
            if (member.ProcessId is { } pid)
            {
                cpu[$"store-{member.Index}"] = BenchReport.CpuSeconds(pid);
            }
        }

        return cpu;
    }

    /// <summary>Polls (every 0.5 s, at most 10 min) until every job of <paramref name="ids"/> is terminal; returns
    /// those that are. A modest rate: every listing costs the director (and the store) real work.</summary>
    private static async Task<List<JobView>> WaitForFinishAsync(BenchCluster cluster, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        List<JobView> done = [];
        var deadline = Stopwatch.GetTimestamp() + (long)(TimeSpan.FromMinutes(10).TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var all = await cluster.Directors[0].Client.AllJobsAsync(cancellationToken).ConfigureAwait(false);
            done = all.Where(j => wanted.Contains(j.Id) && j.State.IsTerminal()).ToList();
            if (done.Count == wanted.Count)
            {
                break;
            }

            // Not a retry: the pace of the bounded poll for the run's end.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        return done;
    }

    private static string Role(string process, string? leader) =>
        process == leader ? "leader"
        : process.StartsWith("director-", StringComparison.Ordinal) ? "other directors"
        : process.StartsWith("agent-", StringComparison.Ordinal) ? "agents"
        : process.StartsWith("store-", StringComparison.Ordinal) ? "store"
        : process;

    /// <summary><paramref name="jobs"/> echo submissions, <paramref name="concurrency"/> at a time, spread over the
    /// directors through the client library, each with its own idempotency key: a director that answers 503 (its store
    /// did not answer in time on a loaded machine) or 429 is retried as any caller's client would, safely. Returns the
    /// ids, each submission's latency (ms, retries included) and the wall time.</summary>
    private static async Task<(ConcurrentBag<string> Ids, ConcurrentBag<double> Latencies, double Seconds)> SubmitAsync(
        BenchCluster cluster, int jobs, int concurrency, CancellationToken cancellationToken)
    {
        var clients = cluster.Directors.Select(d => ControlPlaneClient.Create(o =>
        {
            o.Directors.Add(d.Url);
            o.Token = d.Token;
        })).ToList();
        try
        {
            var ids = new ConcurrentBag<string>();
            var latencies = new ConcurrentBag<double>();
            var payload = JsonDocument.Parse("""{"bench":true}""").RootElement;
            var run = Guid.NewGuid().ToString("N")[..8];
            var started = Stopwatch.GetTimestamp();
            await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var t = Stopwatch.GetTimestamp();
                var job = await clients[i % clients.Count].SubmitJobAsync(new JobSpec { Executor = "echo", Args = payload }, $"e2e-{run}-{i}", ct).ConfigureAwait(false);
                ids.Add(job.Id);
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }).ConfigureAwait(false);
            return (ids, latencies, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
