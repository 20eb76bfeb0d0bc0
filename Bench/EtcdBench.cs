using System.Diagnostics;
using System.Globalization;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Bench;

/// <summary>
/// etcd client throughput and latency: concurrent put, linearizable get, txn and delete with 128-byte values,
/// then sequential latency per operation, and the process's CPU time over the throughput phases. Output lines are
/// stable so scripts can compare runs
/// (Bench/etcd-compare.sh runs the Node etcd3 client with the same workload).
/// </summary>
internal sealed class EtcdBench : IScenario
{
    public string Name => "etcd";

    public string Summary => "--endpoints HOST:PORT [--ops N] [--concurrency C] [--latency-ops L]: etcd put/get/txn/delete ops/s and latency";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var endpoints = "127.0.0.1:2379";
        var ops = 20_000;
        var concurrency = 64;
        var latencyOps = 2_000;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--endpoints": endpoints = args[i + 1]; break;
                case "--ops": ops = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--latency-ops": latencyOps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync($"unknown option {args[i]}").ConfigureAwait(false);
                    return 2;
            }
        }

        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = endpoints, RequestTimeout = TimeSpan.FromSeconds(30) });
        var prefix = "bench/" + Guid.NewGuid().ToString("N")[..8] + "/";
        var value = ByteString.CopyFrom(new byte[128]);
        string Key(int i) => prefix + i.ToString("D8", CultureInfo.InvariantCulture);

        // Warm-up: connection, JIT and the server's first writes are not what we measure.
        for (var i = 0; i < 200; i++)
        {
            await client.PutAsync(EtcdOp.Put(prefix + "warm", value), cancellationToken).ConfigureAwait(false);
            await client.RangeAsync(EtcdOp.Get(prefix + "warm"), cancellationToken).ConfigureAwait(false);
        }

        var operations = new (string Name, Func<int, Task> Run)[]
        {
            ("put", i => client.PutAsync(EtcdOp.Put(Key(i), value), cancellationToken)),
            ("get", i => client.RangeAsync(EtcdOp.Get(Key(i)), cancellationToken)),
            ("txn", i => client.TxnAsync(new EtcdTxn()
                .If(EtcdCompare.ModRevision(Key(i), Compare.Types.CompareResult.Greater, 0))
                .Then(EtcdOp.Put(Key(i), value).ToOp())
                .Else(EtcdOp.Get(Key(i)).ToOp()), cancellationToken)),
            ("delete", i => client.DeleteRangeAsync(EtcdOp.Delete(Key(i)), cancellationToken)),
        };

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var (name, run) in operations)
        {
            var seconds = await ThroughputAsync(run, ops, concurrency).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant(
                $"etcd {name} ops={ops} window={concurrency} seconds={seconds:0.000} ops_per_s={ops / seconds:0}"));
        }

        // The process's CPU over the four throughput phases only (no start-up, JIT warm-up or latency runs).
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        Console.WriteLine(FormattableString.Invariant(
            $"etcd cpu throughput ops={operations.Length * ops} cpu_seconds={cpu.TotalSeconds:0.000} us_per_op={cpu.TotalMicroseconds / (operations.Length * ops):0.0}"));

        foreach (var (name, run) in operations)
        {
            var samples = new double[latencyOps];
            for (var i = 0; i < latencyOps; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await run(i).ConfigureAwait(false);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(samples);
            Console.WriteLine(FormattableString.Invariant(
                $"etcd {name} sequential ops={latencyOps} p50_ms={Percentile(samples, 0.50):0.000} p99_ms={Percentile(samples, 0.99):0.000}"));
        }

        await client.DeleteRangeAsync(EtcdOp.DeletePrefix(prefix), cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Runs <paramref name="ops"/> operations with at most <paramref name="window"/> in flight.</summary>
    private static async Task<double> ThroughputAsync(Func<int, Task> run, int ops, int window)
    {
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, window).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ops)
            {
                await run(i).ConfigureAwait(false);
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
