namespace ControlPlane.Bench.ControlPlane;

/// <summary>The api scenario's output: one row per phase, the raw store write, and the API's overhead over it.</summary>
internal sealed partial class ApiBench
{
    private static void Report(
        string backend, int directors, int concurrency, bool graceful, TimeSpan sessionTimeout, double load,
        (List<double> Latencies, double Seconds) raw, List<ApiSample> samples, double elapsed, List<Move> moves, List<DirectorCpu> cpu, Dictionary<string, double> scheduler, (double Raw, double Api) storeCpu, ServerSide server, double[] rawRates)
    {
        // A request belongs to a move when it started between a kill and the moment the successor was named.
        bool InMove(ApiSample s) => moves.Any(m => s.StartMs >= m.KillMs && s.StartMs <= (m.ElectedMs ?? double.MaxValue));
        // Move windows clipped to the run (a kill after the load ended has no window).
        var moveSeconds = moves.Sum(m => Math.Max(0, Math.Min(m.ElectedMs ?? elapsed * 1000, elapsed * 1000) - Math.Min(m.KillMs, elapsed * 1000)) / 1000);
        var phases = new (string Name, List<ApiSample> Items, double Seconds)[]
        {
            ("steady", samples.Where(s => !InMove(s)).ToList(), elapsed - moveSeconds),
            ("move", samples.Where(InMove).ToList(), moveSeconds),
            ("all", samples, elapsed),
        };

        var rows = new List<IReadOnlyList<string>>();
        var (r50, r90, r99, rmax) = Percentiles.Of(raw.Latencies);
        var rawRate = raw.Latencies.Count / raw.Seconds;
        BenchReport.Json(new
        {
            scenario = "api", backend, phase = "store-raw", concurrency, requests = raw.Latencies.Count, perSecond = BenchReport.Round(rawRate), roundsPerSecond = rawRates,
            p50Ms = BenchReport.Round(r50, 2), p90Ms = BenchReport.Round(r90, 2), p99Ms = BenchReport.Round(r99, 2), maxMs = BenchReport.Round(rmax, 2), loadAverage = load,
        });
        rows.Add([backend, "store write", $"{raw.Latencies.Count}", $"{raw.Latencies.Count}", "0", "0", "0", BenchReport.Cell(rawRate), BenchReport.Cell(r50, "0.00"), BenchReport.Cell(r99, "0.00"), BenchReport.Cell(rmax, "0.00")]);

        double a50 = double.NaN, a99 = double.NaN;
        foreach (var (name, items, seconds) in phases)
        {
            var ok = items.Where(s => Ok(s.Status)).ToList();
            var server5xx = items.Count(s => s.Status >= 500);
            var other4xx = items.Count(s => s.Status is >= 400 and < 500);
            var noAnswer = items.Count(s => s.Status == 0);
            var inFlightToVictim = items.Count(s => !Ok(s.Status) && moves.Any(m => m.Victim == s.Director));
            var (p50, p90, p99, max) = Percentiles.Of(ok.Select(s => s.LatencyMs).ToList());
            var rate = seconds > 0 ? ok.Count / seconds : double.NaN;
            if (name == "steady")
            {
                (a50, a99) = (p50, p99);
            }

            BenchReport.Json(new
            {
                scenario = "api", backend, phase = name, directors, concurrency, requests = items.Count, ok = ok.Count,
                status5xx = server5xx, status4xx = other4xx, noAnswer, failedAtKilledDirector = inFlightToVictim,
                seconds = BenchReport.Round(seconds, 2), perSecond = BenchReport.Round(rate),
                p50Ms = BenchReport.Round(p50, 2), p90Ms = BenchReport.Round(p90, 2), p99Ms = BenchReport.Round(p99, 2), maxMs = BenchReport.Round(max, 2),
            });
            rows.Add([backend, $"POST /v1/jobs {name}", $"{items.Count}", $"{ok.Count}", $"{server5xx}", $"{other4xx}", $"{noAnswer} ({inFlightToVictim} at victim)",
                BenchReport.Cell(rate), BenchReport.Cell(p50, "0.00"), BenchReport.Cell(p99, "0.00"), BenchReport.Cell(max, "0.00")]);
        }

        BenchReport.Json(new
        {
            scenario = "api", backend, phase = "summary", sessionTimeoutSeconds = sessionTimeout.TotalSeconds, stop = graceful ? "sigterm" : "kill9",
            overheadP50Ms = BenchReport.Round(a50 - r50, 2), overheadP99Ms = BenchReport.Round(a99 - r99, 2),
            moves = moves.Select(m => new { victim = m.Name, killAtS = Math.Round(m.KillMs / 1000, 2), successorSeenAfterS = m.ElectedMs is { } e ? Math.Round((e - m.KillMs) / 1000, 2) : (double?)null }),
            directorMeanMs = BenchReport.Round(server.DirectorMeanMs, 2), clientMeanMs = BenchReport.Round(server.ClientMeanMs, 2), directorMeasuredRequests = server.Requests,
            leaderScheduler = scheduler,
            // Store server CPU per request: what one submission costs the store, directly and through the API (the leader's reads included).
            storeCpuMsPerRawWrite = BenchReport.Round(storeCpu.Raw * 1000 / Math.Max(1, raw.Latencies.Count), 3),
            directorCpuMsPerApiRequest = BenchReport.Round(cpu.Sum(c => c.CpuSeconds) * 1000 / Math.Max(1, samples.Count), 3),
            storeCpuMsPerApiRequest = BenchReport.Round(storeCpu.Api * 1000 / Math.Max(1, samples.Count), 3),
            survivors = cpu.Select(c => new { director = c.Name, leader = c.Leader, cpuSeconds = BenchReport.Round(c.CpuSeconds, 2), rssMb = BenchReport.Round(c.RssMb) }),
        });
        BenchReport.Table(["backend", "what", "requests", "ok", "5xx", "4xx", "no answer", "ok/s", "p50 ms", "p99 ms", "max ms"], rows);
        Console.WriteLine($"\nAPI overhead over the raw store write (steady): p50 {BenchReport.Cell(a50 - r50, "0.00")} ms, p99 {BenchReport.Cell(a99 - r99, "0.00")} ms; " +
            $"mean per POST at the surviving directors {server.DirectorMeanMs:0.00} ms inside, {server.ClientMeanMs:0.00} ms at the client; " +
            $"surviving directors' CPU per request {cpu.Sum(c => c.CpuSeconds) * 1000 / Math.Max(1, samples.Count):0.00} ms (the leader's work included); " +
            $"store CPU per write {storeCpu.Raw * 1000 / Math.Max(1, raw.Latencies.Count):0.00} ms raw, {storeCpu.Api * 1000 / Math.Max(1, samples.Count):0.00} ms via the API; " +
            string.Join("; ", cpu.Select(c => $"{c.Name}{(c.Leader ? " (leader)" : "")} used {c.CpuSeconds:0.0} CPU s")) + "; " +
            string.Join("; ", moves.Select(m => $"{m.Name} {(graceful ? "stopped" : "killed")} at {m.KillMs / 1000:0.0} s, successor seen after {(m.ElectedMs is { } e ? $"{(e - m.KillMs) / 1000:0.00} s" : "never")}")));
    }
}
