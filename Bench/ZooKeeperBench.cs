using System.Diagnostics;
using System.Globalization;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Bench;

/// <summary>Throughput of pipelined create/getData/setData/delete with 128-byte values and a fixed number of
/// requests in flight, then latency percentiles of sequential requests, against one ZooKeeper server.
/// <c>zk --servers HOST:PORT --ops N --window W</c>; without --servers a standalone server is started.</summary>
internal sealed class ZooKeeperBench : IScenario
{
    public string Name => "zk";

    public string Summary => "ZooKeeper client: pipelined create/get/set/delete ops/s and sequential p50/p99 (--servers H:P --ops N --window W)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var ops = options.Int("ops", 100_000);
        var window = options.Int("window", 1000);
        var valueSize = options.Int("value-size", 128);
        var latencyOps = options.Int("latency-ops", Math.Min(ops, 5_000));
        await using var server = await BenchServer.StartOrUseAsync(options.String("servers"), cancellationToken).ConfigureAwait(false);

        await using var client = await ZooKeeperClient.ConnectAsync(
            new ZooKeeperClientOptions { ConnectionString = server.ConnectionString, SessionTimeout = TimeSpan.FromSeconds(30) },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = "/bench-" + Guid.NewGuid().ToString("N")[..8];
        await client.CreateAsync(root, default, cancellationToken: cancellationToken).ConfigureAwait(false);
        var value = new byte[valueSize];
        Random.Shared.NextBytes(value);
        var paths = Enumerable.Range(0, ops).Select(i => $"{root}/n-{i:D8}").ToArray();

        // Warm up the JIT and the server's code paths before timing.
        await RunPipelinedAsync(Math.Min(2000, ops), window, async i =>
        {
            await client.CreateAsync(paths[i] + "-w", value, cancellationToken: cancellationToken).ConfigureAwait(false);
            await client.GetDataAsync(paths[i] + "-w", cancellationToken).ConfigureAwait(false);
            await client.DeleteAsync(paths[i] + "-w", cancellationToken: cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        Report("create", ops, window, await RunPipelinedAsync(ops, window, i => client.CreateAsync(paths[i], value, cancellationToken: cancellationToken)).ConfigureAwait(false));
        Report("get", ops, window, await RunPipelinedAsync(ops, window, i => client.GetDataAsync(paths[i], cancellationToken)).ConfigureAwait(false));
        Report("set", ops, window, await RunPipelinedAsync(ops, window, i => client.SetDataAsync(paths[i], value, cancellationToken: cancellationToken)).ConfigureAwait(false));
        Report("delete", ops, window, await RunPipelinedAsync(ops, window, i => client.DeleteAsync(paths[i], cancellationToken: cancellationToken)).ConfigureAwait(false));

        var latencyPaths = paths.Take(latencyOps).ToArray();
        await ReportLatencyAsync("create", latencyPaths, p => client.CreateAsync(p, value, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await ReportLatencyAsync("get", latencyPaths, p => client.GetDataAsync(p, cancellationToken)).ConfigureAwait(false);
        await ReportLatencyAsync("set", latencyPaths, p => client.SetDataAsync(p, value, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await ReportLatencyAsync("delete", latencyPaths, p => client.DeleteAsync(p, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await client.DeleteAsync(root, cancellationToken: cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Keeps exactly <paramref name="window"/> requests in flight: each worker issues its next request
    /// when the previous one completes.</summary>
    private static async Task<TimeSpan> RunPipelinedAsync(int ops, int window, Func<int, Task> operation)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = new Task[Math.Min(window, ops)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < ops)
                {
                    await operation(i).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started);
    }

    private static void Report(string op, int ops, int window, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"zk {op} ops={ops} window={window} seconds={elapsed.TotalSeconds:0.000} ops_per_s={ops / elapsed.TotalSeconds:0}"));

    private static async Task ReportLatencyAsync(string op, string[] paths, Func<string, Task> operation)
    {
        var samples = new double[paths.Length];
        for (var i = 0; i < paths.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await operation(paths[i]).ConfigureAwait(false);
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        Array.Sort(samples);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"zk latency {op} n={paths.Length} p50_us={Percentile(samples, 0.50):0} p99_us={Percentile(samples, 0.99):0}"));
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
