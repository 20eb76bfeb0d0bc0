using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Submission throughput and the API's own cost, while leadership moves. First the raw store write a director makes
/// per submission (<see cref="RawStoreWrites"/>), C in flight; then C concurrent HTTP clients <c>POST /v1/jobs</c>
/// round-robin over N directors for a fixed time, and during that time the leader is killed (-9, or SIGTERM with
/// <c>--stop sigterm</c>) K times. No agents run, so the jobs stay Pending (bounded by <c>--max-requests</c>).
/// Requests are reported by phase: steady, and "move" (started between a kill and the moment a surviving director
/// names the successor). Submissions do not need the leader, so the move should not show in errors.
/// <c>api --backend zookeeper|etcd --directors 3 --concurrency 32 --seconds 30 --kills 2 --session-timeout 4 --store-requests 5000
/// --max-requests 150000 [--leaderless]</c>; the request bound must not end the run before the last kill (the
/// scenario fails when a kill found no load running).
/// <c>--leaderless</c> starts the directors with <c>Director:Campaign=false</c> (nobody schedules, no kills): the
/// same load without a leader's work beside it.
/// </summary>
/// <remarks>Raw HTTP on purpose, not ControlPlane.Client: it measures the API (each status, each director, latency of one
/// request), which the client's failover and retries would hide.</remarks>
internal sealed partial class ApiBench : IScenario
{
    public string Name => "api";

    public string Summary => "POST /v1/jobs req/s and p50/p99 vs the raw store write, while the leader is killed (--backend zookeeper|etcd --concurrency 32 --seconds 45 --kills 2)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var directors = options.Int("directors", 3);
        var concurrency = options.Int("concurrency", 32);
        var seconds = options.Int("seconds", 45);
        var kills = options.Int("kills", 2);
        var maxRequests = options.Int("max-requests", 150_000);
        var storeRequests = options.Int("store-requests", 5000);
        var graceful = options.String("stop") == "sigterm";
        // --leaderless: no director campaigns, so nobody schedules; the API's cost without a leader's work beside it.
        var leaderless = options.String("leaderless") == "true";
        kills = leaderless ? 0 : kills;
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        if (kills >= directors)
        {
            await Console.Error.WriteLineAsync("--kills must be less than --directors: one director must survive.").ConfigureAwait(false);
            return 2;
        }

        await using var cluster = await BenchCluster.StartAsync(
            backend, directors, 0, 1, sessionTimeout, leaderless ? ["--Director:Campaign=false"] : null, cancellationToken).ConfigureAwait(false);
        var load = BenchReport.LoadAverage();
        var spec = new JobSpec { Executor = "echo", Args = JsonDocument.Parse("""{"bench":true}""").RootElement };

        using var api = new ApiLoad(cluster.Directors, spec);
        // Warm-up: JIT and connection pools of every director, not measured.
        await api.RunAsync(concurrency, TimeSpan.FromSeconds(30), 500 * directors, Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        // The raw store write, after the API warm-up (the store's JIT too), warmed up on its connections, then measured.
        var stores = await Task.WhenAll(cluster.Directors.Select(_ => RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken))).ConfigureAwait(false);
        (List<double> Latencies, double Seconds) raw;
        double rawStoreCpu;
        double[] rawRates;
        try
        {
            // A full-size warm-up: a short one left the first measured run 3-8x slower than the next (tiered JIT, GC).
            await RawStoreWrites.RunAsync(stores, spec, Math.Max(1000, storeRequests), concurrency, cancellationToken).ConfigureAwait(false);
            rawStoreCpu = cluster.StoreCpuSeconds();
            // Three rounds, the median one (by throughput) reported: consecutive identical rounds vary up to 3x here.
            var rounds = new List<(List<double> Latencies, double Seconds)>();
            for (var round = 0; round < 3; round++)
            {
                rounds.Add(await RawStoreWrites.RunAsync(stores, spec, storeRequests, concurrency, cancellationToken).ConfigureAwait(false));
            }

            raw = rounds.OrderBy(r => r.Latencies.Count / r.Seconds).ElementAt(1);
            rawRates = [.. rounds.Select(r => Math.Round(r.Latencies.Count / r.Seconds))];
            rawStoreCpu = cluster.StoreCpuSeconds() - rawStoreCpu;
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }

        var cpuBefore = cluster.Directors.ToDictionary(d => d.Process.Name, d => BenchReport.CpuSeconds(d.Process.ProcessId), StringComparer.Ordinal);
        var serverBefore = await ServerSideAsync(cluster.Directors, cancellationToken).ConfigureAwait(false);
        var storeCpu = cluster.StoreCpuSeconds();
        var origin = Stopwatch.GetTimestamp();
        var running = api.RunAsync(concurrency, TimeSpan.FromSeconds(seconds), maxRequests, origin, cancellationToken);
        var moves = await MoveLeadershipAsync(cluster, api, kills, graceful, TimeSpan.FromSeconds(seconds), sessionTimeout, origin, cancellationToken).ConfigureAwait(false);
        var samples = await running.ConfigureAwait(false);
        storeCpu = cluster.StoreCpuSeconds() - storeCpu;
        var survivors = cluster.Directors.Where(d => !d.Process.HasExited).ToList();
        var serverAfter = await ServerSideAsync(survivors, cancellationToken).ConfigureAwait(false);
        // The survivors' own mean time per POST (their request-duration histogram, before/after), and what the clients saw from them.
        var serverSum = survivors.Sum(d => serverAfter[d.Process.Name].Sum - serverBefore[d.Process.Name].Sum);
        var serverCount = survivors.Sum(d => serverAfter[d.Process.Name].Count - serverBefore[d.Process.Name].Count);
        var survivorIndexes = survivors.Select(d => cluster.Directors.IndexOf(d)).ToHashSet();
        var clientMean = samples.Where(s => survivorIndexes.Contains(s.Director) && Ok(s.Status)).Select(s => s.LatencyMs).DefaultIfEmpty(double.NaN).Average();
        var serverSide = new ServerSide(serverCount > 0 ? serverSum * 1000 / serverCount : double.NaN, clientMean, (long)serverCount);
        var finalLeader = leaderless ? null : (await cluster.Directors.First(d => !d.Process.HasExited).Client.LeaderAsync(cancellationToken).ConfigureAwait(false))?.DirectorId;
        // CPU each surviving director used during the measured run: shows what leading costs next to serving the API.
        var cpu = cluster.Directors.Where(d => !d.Process.HasExited)
            .Select(d => new DirectorCpu(d.Process.Name, d.Process.Name == finalLeader, BenchReport.CpuSeconds(d.Process.ProcessId) - cpuBefore[d.Process.Name], BenchReport.RssMb(d.Process.ProcessId)))
            .ToList();
        // What the final leader's scheduler did during its term (passes, time in passes, pending jobs it saw).
        var leaderProcess = cluster.Directors.FirstOrDefault(d => d.Process.Name == finalLeader);
        var scheduler = leaderProcess is null ? [] : (await DirectorMetricsScrape.ScrapeAsync(leaderProcess, null, cancellationToken).ConfigureAwait(false))
            .Where(m => m.Key.StartsWith("controlplane_scheduler_pass", StringComparison.Ordinal) || m.Key.StartsWith("controlplane_jobs_pending", StringComparison.Ordinal))
            .ToDictionary(m => m.Key, m => Math.Round(m.Value, 3), StringComparer.Ordinal);
        var elapsed = Math.Min(seconds, samples.Count == 0 ? 0 : samples.Max(s => (s.StartMs + s.LatencyMs) / 1000));

        Report(leaderless ? $"{backend} (no leader)" : backend, directors, concurrency, graceful, sessionTimeout, load, raw, samples, elapsed, moves, cpu, scheduler, (rawStoreCpu / 3, storeCpu), serverSide, rawRates);
        var completed = moves.Count(m => m.ElectedMs is not null && m.KillMs < elapsed * 1000);
        var unexpected = samples.Count(s => !Ok(s.Status) && !moves.Any(m => m.Victim == s.Director));
        return completed == kills && unexpected == 0 ? 0 : 1;
    }

    private static bool Ok(int status) => status is >= 200 and < 300;

    /// <summary>Mean milliseconds per POST /v1/jobs inside the surviving directors (their request-duration histogram) and
    /// as the clients measured the same directors' requests.</summary>
    private sealed record ServerSide(double DirectorMeanMs, double ClientMeanMs, long Requests);

    private static async Task<Dictionary<string, (double Sum, double Count)>> ServerSideAsync(IEnumerable<DirectorProcess> directors, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        foreach (var director in directors)
        {
            var m = await DirectorMetricsScrape.ScrapeAsync(director, "POST", cancellationToken).ConfigureAwait(false);
            result[director.Process.Name] = (m.GetValueOrDefault("controlplane_api_request_duration_seconds_sum"), m.GetValueOrDefault("controlplane_api_request_duration_seconds_count"));
        }

        return result;
    }

    /// <summary>CPU seconds a surviving director used during the measured run, whether it leads at the end, and its RSS.</summary>
    private sealed record DirectorCpu(string Name, bool Leader, double CpuSeconds, double RssMb);

    /// <summary>One leadership move: the victim's index, when it was killed, when a survivor named the successor
    /// (ms since the run began; null if none within the bound).</summary>
    private sealed record Move(int Victim, string Name, double KillMs, double? ElectedMs);

    private static async Task<List<Move>> MoveLeadershipAsync(
        BenchCluster cluster, ApiLoad api, int kills, bool graceful, TimeSpan duration, TimeSpan sessionTimeout, long origin, CancellationToken cancellationToken)
    {
        var moves = new List<Move>();
        var alive = cluster.Directors.ToList();
        for (var k = 1; k <= kills; k++)
        {
            // Evenly spaced kills: at 1/(K+1), 2/(K+1), ... of the run.
            var at = duration * k / (kills + 1) - Stopwatch.GetElapsedTime(origin);
            if (at > TimeSpan.Zero)
            {
                // Not a retry: waits until this kill's moment in the run.
                await Task.Delay(at, cancellationToken).ConfigureAwait(false);
            }

            var leader = await alive[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false);
            var victim = leader is null ? null : alive.FirstOrDefault(d => d.Process.Name == leader.DirectorId);
            if (leader is null || victim is null)
            {
                await Console.Error.WriteLineAsync($"move {k}: no leader to kill").ConfigureAwait(false);
                continue;
            }

            api.Retire(victim);
            alive.Remove(victim);
            var killMs = Stopwatch.GetElapsedTime(origin).TotalMilliseconds;
            if (graceful)
            {
                await victim.Process.TerminateAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            }
            else
            {
                await victim.Process.KillAsync().ConfigureAwait(false);
            }

            double? electedMs = null;
            var deadline = Stopwatch.GetTimestamp() + (long)(sessionTimeout.TotalSeconds * 6 * Stopwatch.Frequency);
            while (electedMs is null && Stopwatch.GetTimestamp() < deadline)
            {
                if (await alive[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false) is { } now && now.Epoch > leader.Epoch)
                {
                    electedMs = Stopwatch.GetElapsedTime(origin).TotalMilliseconds;
                }
                else
                {
                    // Not a retry: the pace of the bounded poll for a new leader.
                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                }
            }

            moves.Add(new Move(cluster.Directors.ToList().IndexOf(victim), victim.Process.Name, killMs, electedMs));
        }

        return moves;
    }
}
