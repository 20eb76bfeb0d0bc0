namespace ControlPlane.Bench.ControlPlane;

/// <summary>The scale scenario's output.</summary>
internal sealed partial class ScaleBench
{
    private sealed record Figures(
        string Backend, int Directors, int Agents, int Sessions, double Load, double RegisterSeconds, double CloseSeconds, long ListBytes,
        List<double> LeaderList, List<double> FollowerList, double RssBefore, double RssRegistered, double RssAfter,
        double FollowerRssBefore, double FollowerRssAfter, List<Reaction> Reactions, LoadFigures? Loaded);

    private static void Report(Figures f)
    {
        static List<double> Of(IEnumerable<double?> values) => values.Where(v => v is not null).Select(v => v!.Value).ToList();
        var (j50, _, j99, jmax) = Percentiles.Of(Of(f.Reactions.Select(r => r.JoinMs)));
        var (t50, _, t99, tmax) = Percentiles.Of(Of(f.Reactions.Select(r => r.TakeBackMs)));
        var (m50, _, _, mmax) = Percentiles.Of(Of(f.Reactions.Select(r => r.ReassignMs)));
        var (l50, _, _, lmax) = Percentiles.Of(f.LeaderList);
        var (o50, _, _, omax) = Percentiles.Of(f.FollowerList);
        BenchReport.Json(new
        {
            scenario = "scale", backend = f.Backend, directors = f.Directors, agents = f.Agents, sessions = f.Sessions,
            registerSeconds = Math.Round(f.RegisterSeconds, 2), closeSeconds = Math.Round(f.CloseSeconds, 2),
            joinP50Ms = BenchReport.Round(j50), joinMaxMs = BenchReport.Round(jmax),
            takeBackP50Ms = BenchReport.Round(t50), takeBackMaxMs = BenchReport.Round(tmax),
            reassignP50Ms = BenchReport.Round(m50), reassignMaxMs = BenchReport.Round(mmax),
            workersListP50Ms = BenchReport.Round(l50), workersListMaxMs = BenchReport.Round(lmax),
            workersListFollowerP50Ms = BenchReport.Round(o50), workersListFollowerMaxMs = BenchReport.Round(omax), workersListBytes = f.ListBytes,
            leaderRssMbBefore = BenchReport.Round(f.RssBefore), leaderRssMbRegistered = BenchReport.Round(f.RssRegistered), leaderRssMbAfter = BenchReport.Round(f.RssAfter),
            followerRssMbBefore = BenchReport.Round(f.FollowerRssBefore), followerRssMbAfter = BenchReport.Round(f.FollowerRssAfter),
            loadAverage = f.Load,
            jobs = f.Loaded?.Jobs, submitSeconds = f.Loaded?.SubmitSeconds, placeSeconds = f.Loaded?.PlaceSeconds,
            placingPassP50Ms = f.Loaded?.LoadingP50, placingPassP99Ms = f.Loaded?.LoadingP99, placingPasses = f.Loaded?.LoadingPasses,
            churnFinished = f.Loaded?.Finished, churnSeconds = f.Loaded?.ChurnSeconds,
            churnPassP50Ms = f.Loaded?.ChurnP50, churnPassP99Ms = f.Loaded?.ChurnP99, churnPasses = f.Loaded?.ChurnPasses, probePassP99Ms = f.Loaded?.ProbeP99,
            joinP99Ms = BenchReport.Round(j99), takeBackP99Ms = BenchReport.Round(t99),
        });
        BenchReport.Table(
            ["backend", "agents", "sessions", "register s", "join→assigned p50/max ms", "leave→requeued p50/max ms", "leave→reassigned p50/max ms",
             "GET /v1/workers leader/follower p50 ms", "leader RSS MiB before/with/after", "follower RSS MiB"],
            [[f.Backend, $"{f.Agents}", $"{f.Sessions}", BenchReport.Cell(f.RegisterSeconds, "0.00"),
              $"{BenchReport.Cell(j50)} / {BenchReport.Cell(jmax)}", $"{BenchReport.Cell(t50)} / {BenchReport.Cell(tmax)}", $"{BenchReport.Cell(m50)} / {BenchReport.Cell(mmax)}",
              $"{BenchReport.Cell(l50)} / {BenchReport.Cell(o50)} ({f.ListBytes / 1024} KiB)",
              $"{BenchReport.Cell(f.RssBefore, "0")} / {BenchReport.Cell(f.RssRegistered, "0")} / {BenchReport.Cell(f.RssAfter, "0")}",
              $"{BenchReport.Cell(f.FollowerRssBefore, "0")} / {BenchReport.Cell(f.FollowerRssAfter, "0")}"]]);
        if (f.Loaded is { } l)
        {
            BenchReport.Table(
                ["backend", "agents", "jobs", "submit s", "placed in s", "pass p50/p99 ms placing (passes)", "churn finished/s", "pass p50/p99 ms churn (passes)", "pass p99 ms probes"],
                [[f.Backend, $"{f.Agents}", $"{l.Jobs}", BenchReport.Cell(l.SubmitSeconds, "0.0"), BenchReport.Cell(l.PlaceSeconds, "0.0"),
                  $"≤{BenchReport.Cell(l.LoadingP50 ?? double.NaN)} / ≤{BenchReport.Cell(l.LoadingP99 ?? double.NaN)} ({l.LoadingPasses})",
                  BenchReport.Cell(l.Finished / Math.Max(l.ChurnSeconds, 0.001), "0"),
                  $"≤{BenchReport.Cell(l.ChurnP50 ?? double.NaN)} / ≤{BenchReport.Cell(l.ChurnP99 ?? double.NaN)} ({l.ChurnPasses})", $"≤{BenchReport.Cell(l.ProbeP99 ?? double.NaN)}"]]);
        }
    }
}
