using System.Diagnostics;
using System.Globalization;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace ControlPlane.Bench.DotnetEtcd;

/// <summary>
/// The workload of <c>Bench etcd</c> (Bench/EtcdBench.cs) with dotnet-etcd: concurrent put, linearizable get, txn
/// and delete with 128-byte values, then sequential latency per operation and the CPU line, printed in the same
/// line format tagged
/// <c>dotnet-etcd</c>. The client is used as its README shows: one <see cref="EtcdClient"/>, its default channel.
/// </summary>
internal static class DotnetEtcdBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var endpoints = "127.0.0.1:2379";
        var ops = 20_000;
        var concurrency = 64;
        var latencyOps = 2_000;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--endpoints" when value is not null: endpoints = value; break;
                case "--ops" when value is not null: ops = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--concurrency" when value is not null: concurrency = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--latency-ops" when value is not null: latencyOps = int.Parse(value, CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync($"unknown option or missing value: {args[i]}").ConfigureAwait(false);
                    return 2;
            }
        }

        using var client = new EtcdClient(string.Join(',', endpoints.Split(',').Select(e => "http://" + e)));
        var prefix = "bench-dotnet-etcd/" + Guid.NewGuid().ToString("N")[..8] + "/";
        var payload = ByteString.CopyFrom(new byte[128]);
        ByteString Key(int i) => ByteString.CopyFromUtf8(prefix + i.ToString("D8", CultureInfo.InvariantCulture));

        // Warm-up: connection, JIT and the server's first writes are not what we measure.
        var warm = ByteString.CopyFromUtf8(prefix + "warm");
        for (var i = 0; i < 200; i++)
        {
            await client.PutAsync(new PutRequest { Key = warm, Value = payload }).ConfigureAwait(false);
            await client.GetAsync(new RangeRequest { Key = warm }).ConfigureAwait(false);
        }

        var operations = new (string Name, Func<int, Task> Run)[]
        {
            ("put", i => client.PutAsync(new PutRequest { Key = Key(i), Value = payload })),
            ("get", i => client.GetAsync(new RangeRequest { Key = Key(i) })),
            ("txn", i =>
            {
                var key = Key(i);
                return client.TransactionAsync(new TxnRequest
                {
                    Compare =
                    {
                        new Compare
                        {
                            Key = key,
                            Target = Compare.Types.CompareTarget.Mod,
                            Result = Compare.Types.CompareResult.Greater,
                            ModRevision = 0,
                        },
                    },
                    Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = payload } } },
                    Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
                });
            }),
            ("delete", i => client.DeleteAsync(new DeleteRangeRequest { Key = Key(i) })),
        };

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var (name, run) in operations)
        {
            var seconds = await ThroughputAsync(run, ops, concurrency).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant(
                $"dotnet-etcd {name} ops={ops} window={concurrency} seconds={seconds:0.000} ops_per_s={ops / seconds:0}"));
        }

        // The process's CPU over the four throughput phases only (no start-up, JIT warm-up or latency runs).
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        Console.WriteLine(FormattableString.Invariant(
            $"dotnet-etcd cpu throughput ops={operations.Length * ops} cpu_seconds={cpu.TotalSeconds:0.000} us_per_op={cpu.TotalMicroseconds / (operations.Length * ops):0.0}"));

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
                $"dotnet-etcd {name} sequential ops={latencyOps} p50_ms={Percentile(samples, 0.50):0.000} p99_ms={Percentile(samples, 0.99):0.000}"));
        }

        await client.DeleteRangeAsync(prefix).ConfigureAwait(false);
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
