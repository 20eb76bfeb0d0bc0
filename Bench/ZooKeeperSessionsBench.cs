using System.Diagnostics;
using System.Globalization;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Bench;

/// <summary>Many concurrent sessions from one process: connect them, hold them (pings only) for a while, close
/// them; report memory and CPU. Shows what a session costs when nothing happens on it.
/// <c>zk-sessions --servers HOST:PORT --sessions 5000 --hold-seconds 30 --session-timeout-ms 10000</c>.</summary>
internal sealed class ZooKeeperSessionsBench : IScenario
{
    public string Name => "zk-sessions";

    public string Summary => "ZooKeeper client: N concurrent idle sessions held with pings; memory and CPU (--servers H:P --sessions 5000 --hold-seconds 30)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var count = options.Int("sessions", 5000);
        var hold = TimeSpan.FromSeconds(options.Int("hold-seconds", 30));
        var timeout = TimeSpan.FromMilliseconds(options.Int("session-timeout-ms", 10_000));
        var connectParallelism = options.Int("connect-parallelism", 256);
        await using var server = await BenchServer.StartOrUseAsync(options.String("servers"), cancellationToken).ConfigureAwait(false);
        var process = Process.GetCurrentProcess();

        var baseline = Snapshot(process);
        var clients = new ZooKeeperClient[count];
        var started = Stopwatch.GetTimestamp();
        // Bounded connect concurrency: the server's accept backlog is finite, and so is the time budget.
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = connectParallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                clients[i] = await ZooKeeperClient.ConnectAsync(
                    new ZooKeeperClientOptions { ConnectionString = server.ConnectionString, SessionTimeout = timeout, ConnectTimeout = TimeSpan.FromSeconds(60) },
                    cancellationToken: ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
        var connectSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var connected = Snapshot(process);

        // Not a retry: the hold, in which nothing but pings (every third of the negotiated timeout) flows.
        await Task.Delay(hold, cancellationToken).ConfigureAwait(false);
        var held = Snapshot(process);
        var stillConnected = clients.Count(c => c.State == ConnectionState.Connected);

        var closing = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = connectParallelism, CancellationToken = cancellationToken },
            async (i, _) => await clients[i].CloseAsync().ConfigureAwait(false)).ConfigureAwait(false);
        var closeSeconds = Stopwatch.GetElapsedTime(closing).TotalSeconds;
        var closed = Snapshot(process);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"zk-sessions sessions={count} negotiated_timeout_ms={clients[0].NegotiatedSessionTimeout.TotalMilliseconds:0} connect_seconds={connectSeconds:0.00} hold_seconds={hold.TotalSeconds:0} close_seconds={closeSeconds:0.00} connected_after_hold={stillConnected}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"zk-sessions memory gc_heap_mb_before={baseline.HeapMb:0.0} gc_heap_mb_connected={connected.HeapMb:0.0} gc_heap_mb_after_hold={held.HeapMb:0.0} gc_heap_kb_per_session={(held.HeapMb - baseline.HeapMb) * 1024 / count:0.00} working_set_mb_before={baseline.WorkingSetMb:0} working_set_mb_after_hold={held.WorkingSetMb:0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"zk-sessions cpu cpu_seconds_connect={connected.CpuSeconds - baseline.CpuSeconds:0.00} cpu_seconds_hold={held.CpuSeconds - connected.CpuSeconds:0.00} cpu_percent_of_one_core_during_hold={(held.CpuSeconds - connected.CpuSeconds) / hold.TotalSeconds * 100:0.0} cpu_seconds_close={closed.CpuSeconds - held.CpuSeconds:0.00} threads_during_hold={held.Threads}"));
        return stillConnected == count ? 0 : 1;
    }

    private readonly record struct Sample(double HeapMb, double WorkingSetMb, double CpuSeconds, int Threads);

    private static Sample Snapshot(Process process)
    {
        // A full blocking collection first, so the heap figure is live data, not garbage waiting for a GC.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        process.Refresh();
        return new Sample(
            GC.GetTotalMemory(false) / 1048576.0,
            process.WorkingSet64 / 1048576.0,
            process.TotalProcessorTime.TotalSeconds,
            process.Threads.Count);
    }
}
