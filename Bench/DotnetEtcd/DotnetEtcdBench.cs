using System.Diagnostics;
using System.Globalization;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace ControlPlane.Bench.DotnetEtcd;

/// <summary>
/// The workload of <c>Bench etcd</c> (Bench/EtcdBench.cs) with dotnet-etcd: concurrent put, linearizable get, txn
/// and delete with 128-byte values, then sequential latency per operation and the CPU line, printed in the same
/// line format tagged
/// <c>dotnet-etcd</c>. The client is used as its README shows: one <see cref="EtcdClient"/>, its default channel.
/// </summary>
internal static class DotnetEtcdBench
{
    /// <param name="args">The options of <c>Bench etcd</c>.</param>
    /// <param name="plainChannel">Instead of dotnet-etcd's <see cref="EtcdClient"/>, the generated stubs it ships
    /// (<see cref="KV.KVClient"/>) on a plain <see cref="GrpcChannel"/> with default options: what Grpc.Net.Client
    /// itself costs, without the library around it. Lines are tagged <c>grpc-net</c>.</param>
    public static async Task<int> RunAsync(string[] args, bool plainChannel)
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

        var addresses = endpoints.Split(',').Select(e => "http://" + e).ToArray();
        var tag = plainChannel ? "grpc-net" : "dotnet-etcd";
        using var client = plainChannel ? null : new EtcdClient(string.Join(',', addresses));
        using var channel = plainChannel ? GrpcChannel.ForAddress(addresses[0]) : null;
        var stubs = channel is null ? null : new KV.KVClient(channel);
        Func<PutRequest, Task> put = stubs is null ? r => client!.PutAsync(r) : r => stubs.PutAsync(r).ResponseAsync;
        Func<RangeRequest, Task> range = stubs is null ? r => client!.GetAsync(r) : r => stubs.RangeAsync(r).ResponseAsync;
        Func<TxnRequest, Task> txn = stubs is null ? r => client!.TransactionAsync(r) : r => stubs.TxnAsync(r).ResponseAsync;
        Func<DeleteRangeRequest, Task> delete = stubs is null ? r => client!.DeleteAsync(r) : r => stubs.DeleteRangeAsync(r).ResponseAsync;

        var prefix = "bench-" + tag + "/" + Guid.NewGuid().ToString("N")[..8] + "/";
        var payload = ByteString.CopyFrom(new byte[128]);
        ByteString Key(int i) => ByteString.CopyFromUtf8(prefix + i.ToString("D8", CultureInfo.InvariantCulture));

        // Warm-up: connection, JIT and the server's first writes are not what we measure.
        var warm = ByteString.CopyFromUtf8(prefix + "warm");
        for (var i = 0; i < 200; i++)
        {
            await put(new PutRequest { Key = warm, Value = payload }).ConfigureAwait(false);
            await range(new RangeRequest { Key = warm }).ConfigureAwait(false);
        }

        var operations = new (string Name, Func<int, Task> Run)[]
        {
            ("put", i => put(new PutRequest { Key = Key(i), Value = payload })),
            ("get", i => range(new RangeRequest { Key = Key(i) })),
            ("txn", i =>
            {
                var key = Key(i);
                return txn(new TxnRequest
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
            ("delete", i => delete(new DeleteRangeRequest { Key = Key(i) })),
        };

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var (name, run) in operations)
        {
            var seconds = await ThroughputAsync(run, ops, concurrency).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant(
                $"{tag} {name} ops={ops} window={concurrency} seconds={seconds:0.000} ops_per_s={ops / seconds:0}"));
        }

        // The process's CPU over the four throughput phases only (no start-up, JIT warm-up or latency runs).
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        Console.WriteLine(FormattableString.Invariant(
            $"{tag} cpu throughput ops={operations.Length * ops} cpu_seconds={cpu.TotalSeconds:0.000} us_per_op={cpu.TotalMicroseconds / (operations.Length * ops):0.0}"));

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
                $"{tag} {name} sequential ops={latencyOps} p50_ms={Percentile(samples, 0.50):0.000} p99_ms={Percentile(samples, 0.99):0.000}"));
        }

        var all = ByteString.CopyFromUtf8(prefix);
        await delete(new DeleteRangeRequest { Key = all, RangeEnd = ByteString.CopyFromUtf8(EtcdClient.GetRangeEnd(prefix)) }).ConfigureAwait(false);
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
