using System.Globalization;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>The waiting scenario's output: one JSON line per part and a table each.</summary>
internal sealed partial class WaitingBench
{
    private static void ReportIdle(Settings s, List<Window> windows, double writeSeconds, double? heldSeconds, double rssWithout, double rssWith, Release release, long reportsFailed, Dictionary<string, int> directorWarnings)
    {
        // The ratios compare the window with the Waiting jobs to the second window without (the nearer in time); the two
        // windows without give the noise of the same measure.
        var without = windows[^2];
        var with = windows[^1];
        var noise = windows[0];
        static double Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : double.NaN;
        // Releases per second: to the last counted commit, or else to the counts showing none Waiting (≤ 1 s later).
        var releasesPerSecond = (release.AllSeconds ?? release.CountsSeconds) is { } all ? release.Jobs / all : double.NaN;
        BenchReport.Json(new
        {
            scenario = "waiting", part = "idle", backend = s.Backend, waiting = s.Waiting, churnPerSecond = s.ChurnRate, windowSeconds = s.WindowSeconds,
            writeSeconds = Math.Round(writeSeconds, 1), heldByLeaderSeconds = heldSeconds is { } h ? Math.Round(h, 1) : (double?)null,
            passMeanRatio = BenchReport.Round(Ratio(with.MeanMs, without.MeanMs), 2), passMeanNoiseRatio = BenchReport.Round(Ratio(without.MeanMs, noise.MeanMs), 2),
            passP99Ratio = BenchReport.Round(Ratio(with.P99Ms, without.P99Ms), 2), passP99NoiseRatio = BenchReport.Round(Ratio(without.P99Ms, noise.P99Ms), 2),
            leaderCpuRatio = BenchReport.Round(Ratio(with.LeaderCores, without.LeaderCores), 2), leaderCpuNoiseRatio = BenchReport.Round(Ratio(without.LeaderCores, noise.LeaderCores), 2),
            leaderRssMbWithout = BenchReport.Round(rssWithout), leaderRssMbWith = BenchReport.Round(rssWith),
            releaseFirstSeconds = release.FirstSeconds is { } f ? Math.Round(f, 2) : (double?)null,
            releaseAllSeconds = release.AllSeconds is { } a ? Math.Round(a, 2) : (double?)null,
            releaseCountsSeconds = release.CountsSeconds is { } c ? Math.Round(c, 2) : (double?)null,
            releasesPerSecond = BenchReport.Round(releasesPerSecond), releasePasses = release.Passes, releasePassP99Ms = release.P99Ms, releasePassMaxMs = release.MaxBoundMs,
            releaseLeaderCpuSeconds = Math.Round(release.LeaderCpuSeconds, 2), reportsFailed, directorWarnings, writeRate = s.WriteRate, loadAverage = release.Load,
        });
        BenchReport.Table(
            ["backend", "window", "waiting", "passes", "pass p50 / p99 ms", "pass mean ms", "judged / pass", "leader CPU (cores)", "churn finished", "store write p50 / p99 ms", "load"],
            windows.Select(w => (IReadOnlyList<string>)
            [
                s.Backend, w.Name, w.Name == "with" ? N(s.Waiting) : "0", N(w.Passes), $"≤{Cell(w.P50Ms)} / ≤{Cell(w.P99Ms)}", BenchReport.Cell(w.MeanMs, "0.00"),
                BenchReport.Cell(w.JudgedPerPass, "0.0"), BenchReport.Cell(w.LeaderCores, "0.000"), N(w.Finished),
                $"{BenchReport.Cell(w.StoreP50Ms, "0.0")} / {BenchReport.Cell(w.StoreP99Ms, "0.0")}", BenchReport.Cell(w.Load),
            ]));
        BenchReport.Table(
            ["backend", "waiting", "written in s", "held by leader s", "leader RSS MiB without / with", "released: first / all s", "releases/s", "counts show 0 Waiting s",
             "passes (p99 / max ms)", "leader CPU s", "load"],
            [[s.Backend, N(s.Waiting), BenchReport.Cell(writeSeconds), Cell(heldSeconds), $"{BenchReport.Cell(rssWithout, "0")} / {BenchReport.Cell(rssWith, "0")}",
              $"{Cell(release.FirstSeconds, "0.00")} / {Cell(release.AllSeconds, "0.00")}", BenchReport.Cell(releasesPerSecond, "0"), Cell(release.CountsSeconds, "0.00"),
              $"{N(release.Passes)} (≤{Cell(release.P99Ms)} / ≤{Cell(release.MaxBoundMs)})", BenchReport.Cell(release.LeaderCpuSeconds, "0.00"), BenchReport.Cell(release.Load)]]);
    }

    private static void ReportFan(Settings s, Run flat, Run dag, long reportsFailed, Dictionary<string, int> directorWarnings)
    {
        var extra = dag.MakespanSeconds - flat.MakespanSeconds;
        var perEdgeMs = extra is { } e ? e * 1000 / dag.Edges : double.NaN;
        var cpuPerEdgeMs = (dag.LeaderCpuSeconds - flat.LeaderCpuSeconds) * 1000 / dag.Edges;
        var submitPerEdgeMs = (dag.SubmitSeconds - flat.SubmitSeconds) * 1000 / dag.Edges;
        var ratio = dag.MakespanSeconds is { } d && flat.MakespanSeconds is { } f && f > 0 ? d / f : double.NaN;
        BenchReport.Json(new
        {
            scenario = "waiting", part = "fan", backend = s.Backend, fanOut = s.FanOut, fanIn = s.FanIn, jobs = dag.Jobs, edges = dag.Edges,
            workers = s.FanWorkers, slots = s.FanSlots, concurrency = s.Concurrency,
            flatSubmitPerSecond = Math.Round(flat.Jobs / flat.SubmitSeconds, 1), dagSubmitPerSecond = Math.Round(dag.Jobs / dag.SubmitSeconds, 1),
            submitMsPerEdge = Math.Round(submitPerEdgeMs, 3),
            flatMakespanSeconds = flat.MakespanSeconds, dagMakespanSeconds = dag.MakespanSeconds, rootToFinalSeconds = dag.RootToFinalSeconds,
            makespanRatio = BenchReport.Round(ratio, 2), overheadMsPerEdge = BenchReport.Round(perEdgeMs, 3), leaderCpuMsPerEdge = Math.Round(cpuPerEdgeMs, 3),
            reportsFailed, directorWarnings, loadAverage = dag.Load,
        });
        BenchReport.Table(
            ["backend", "run", "jobs", "edges", "submit s", "submit jobs/s", "makespan s", "root → final s", "level ends s (root/children/reducers/final)", "passes", "releases", "leader CPU s", "load"],
            new[] { flat, dag }.Select(r => (IReadOnlyList<string>)
            [
                s.Backend, r.Name, N(r.Jobs), N(r.Edges), BenchReport.Cell(r.SubmitSeconds, "0.0"), BenchReport.Cell(r.Jobs / r.SubmitSeconds, "0"),
                Cell(r.MakespanSeconds, "0.00"), Cell(r.RootToFinalSeconds, "0.00"), r.Levels.Count > 1 ? string.Join(" / ", r.Levels.Select(l => BenchReport.Cell(l, "0.00"))) : "-",
                N(r.Passes), N(r.Releases), BenchReport.Cell(r.LeaderCpuSeconds, "0.00"), BenchReport.Cell(r.Load),
            ]));
        BenchReport.Table(
            ["backend", "makespan dag ÷ flat", "overhead ms / edge", "leader CPU ms / edge", "submit ms / edge"],
            [[s.Backend, BenchReport.Cell(ratio, "0.00"), BenchReport.Cell(perEdgeMs, "0.000"), BenchReport.Cell(cpuPerEdgeMs, "0.000"), BenchReport.Cell(submitPerEdgeMs, "0.000")]]);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Cell(double? value, string format = "0.0") => value is { } v ? BenchReport.Cell(v, format) : "-";
}
