using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Jobs per second and submission-to-completion latency through the whole system: J echo jobs submitted by C
/// concurrent clients spread over N directors, run by M agents, on a store started for the run.
/// <c>e2e --backend zookeeper|etcd --directors 3 --agents 4 --slots 16 --jobs 2000 --concurrency 32</c>.
/// Latency is the job's finish time (agent clock) minus its creation time (director clock): one machine, one clock.
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
        await using var cluster = await BenchCluster.StartAsync(backend, directors, agents, slots, TimeSpan.FromSeconds(10), cancellationToken: cancellationToken).ConfigureAwait(false);

        var ids = new ConcurrentBag<string>();
        var submitLatency = new ConcurrentBag<double>();
        var started = Stopwatch.GetTimestamp();
        var payload = JsonDocument.Parse("""{"bench":true}""").RootElement;
        await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var client = cluster.Directors[i % cluster.Directors.Count].Client;
            var t = Stopwatch.GetTimestamp();
            ids.Add((await client.SubmitAsync(new JobSpec { Executor = "echo", Args = payload }, cancellationToken: ct).ConfigureAwait(false)).Id);
            submitLatency.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }).ConfigureAwait(false);
        var submitSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<JobView> done = [];
        var deadline = Stopwatch.GetTimestamp() + (long)(TimeSpan.FromMinutes(10).TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var all = await cluster.Directors[0].Client.AllJobsAsync(cancellationToken).ConfigureAwait(false);
            done = all.Where(j => wanted.Contains(j.Id) && j.State.IsTerminal()).ToList();
            if (done.Count == wanted.Count)
            {
                break;
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        var totalSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var latencies = done.Where(j => j.FinishedAt is not null).Select(j => (j.FinishedAt!.Value - j.CreatedAt).TotalMilliseconds).ToList();
        var (p50, p90, p99, max) = Percentiles.Of(latencies);
        var (s50, _, s99, _) = Percentiles.Of([.. submitLatency]);
        var succeeded = done.Count(j => j.State == JobState.Succeeded);
        var result = new
        {
            scenario = "e2e", backend, directors, agents, slots, jobs, concurrency,
            completed = done.Count, succeeded,
            submitPerSecond = Math.Round(jobs / submitSeconds, 1),
            jobsPerSecond = Math.Round(done.Count / totalSeconds, 1),
            submitP50Ms = Math.Round(s50, 1), submitP99Ms = Math.Round(s99, 1),
            latencyP50Ms = Math.Round(p50, 1), latencyP90Ms = Math.Round(p90, 1), latencyP99Ms = Math.Round(p99, 1), latencyMaxMs = Math.Round(max, 1),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""

            backend    jobs  done  ok    submit/s  jobs/s   submit p50/p99 ms   latency p50/p90/p99/max ms
            {backend,-10} {jobs,-5} {done.Count,-5} {succeeded,-5} {result.submitPerSecond,-9} {result.jobsPerSecond,-8} {s50,6:0.0} /{s99,7:0.0}     {p50,7:0.0} /{p90,7:0.0} /{p99,7:0.0} /{max,7:0.0}
            """));
        return done.Count == jobs ? 0 : 1;
    }
}
