using System.Globalization;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>The workflow scenario's output: one JSON line per run, then one for the comparison and three tables.</summary>
internal sealed partial class WorkflowBench
{
    /// <summary>Writes <paramref name="run"/>'s JSON line and returns it.</summary>
    private static Run Emit(Run run)
    {
        static double? R(double? value, int digits = 3) => value is { } v ? Math.Round(v, digits) : null;
        static object Work(LeaderWork w) => new
        {
            passes = w.Passes, passMeanMs = BenchReport.Round(w.MeanMs, 2), passP99Ms = w.P99Ms, passMaxMs = w.MaxMs, releases = w.Releases,
            leaderCpuSeconds = Math.Round(w.CpuSeconds, 2),
        };
        BenchReport.Json(new
        {
            scenario = "workflow", phase = "run", run = run.Name, workflow = run.WorkflowId, nodes = run.Nodes, edges = run.Edges, chunks = run.Chunks,
            bodyBytes = run.Body?.Bytes, serializeMs = R(run.Body?.SerializeMs, 1), validateMs = R(run.Body?.ValidateMs, 1), submitSeconds = Math.Round(run.SubmitSeconds, 3), acceptSeconds = R(run.AcceptSeconds), stagingSeconds = R(run.StagingSeconds), answerSeconds = R(run.AnswerSeconds),
            commitToFirstStartSeconds = R(run.CommitToFirstStart), commitToLastStartSeconds = R(run.CommitToLastStart),
            commitToRootStartSeconds = R(run.CommitToRootStart), rootStartToEndSeconds = R(run.RootStartToEnd),
            rootEndToFirstMiddleStartSeconds = R(run.RootEndToFirstMiddleStart), rootEndToLastMiddleStartSeconds = R(run.RootEndToLastMiddleStart),
            lastMiddleEndToLastJoinStartSeconds = R(run.LastMiddleEndToLastJoinStart), lastJoinEndToSinkStartSeconds = R(run.LastJoinEndToSinkStart),
            lastMiddleEndToSinkStartSeconds = R(run.LastMiddleEndToSinkStart), makespanSeconds = R(run.MakespanSeconds),
            duringPost = Work(run.DuringPost), whole = Work(run.Whole), getMs = run.GetMs.Select(g => Math.Round(g, 1)),
            getBytes = run.GetBody?.Bytes, getDeserializeMs = R(run.GetBody?.DeserializeMs, 1), slowPassesAtSeconds = run.SlowPassesAt,
            watchOverflowsDuringPost = run.Overflows.DuringPost, watchOverflowsAfter = run.Overflows.After, finished = run.Finished,
            loadAverage = run.Load, error = run.Error,
        });
        return run;
    }

    private static void Report(Settings s, Run flat, Run dag, long reportsFailed, Dictionary<string, int> directorWarnings)
    {
        var extra = dag.MakespanSeconds - flat.MakespanSeconds;
        var perEdgeMs = extra is { } e && dag.Edges > 0 ? e * 1000 / dag.Edges : double.NaN;
        var cpuPerEdgeMs = (dag.Whole.CpuSeconds - flat.Whole.CpuSeconds) * 1000 / dag.Edges;
        var ratio = dag.MakespanSeconds is { } d && flat.MakespanSeconds is { } f && f > 0 ? d / f : double.NaN;
        BenchReport.Json(new
        {
            scenario = "workflow", phase = "compare", backend = s.Backend, nodes = s.Nodes, joins = s.Joins, middles = s.Nodes - s.Joins - 2, edges = dag.Edges,
            workers = s.Workers, slots = s.Slots, flatMakespanSeconds = flat.MakespanSeconds, dagMakespanSeconds = dag.MakespanSeconds,
            makespanRatio = BenchReport.Round(ratio, 2), overheadMsPerEdge = BenchReport.Round(perEdgeMs, 3), leaderCpuMsPerEdge = BenchReport.Round(cpuPerEdgeMs, 3),
            reportsFailed, directorWarnings,
        });
        Run[] runs = [flat, dag];
        BenchReport.Table(
            ["backend", "run", "nodes", "edges", "body KiB (serialize / validate ms)", "chunks", "POST → 201 s", "accept / chunks+commit / answer s", "nodes/s",
             "leader during the POST: passes, CPU s", "watch overflows: POST / after", "load"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                s.Backend, r.Name, N(r.Nodes), N(r.Edges),
                r.Body is { } b ? $"{BenchReport.Cell(b.Bytes / 1024.0, "0")} ({BenchReport.Cell(b.SerializeMs, "0")} / {BenchReport.Cell(b.ValidateMs, "0")})" : "-",
                r.Chunks?.ToString(CultureInfo.InvariantCulture) ?? "-", BenchReport.Cell(r.SubmitSeconds, "0.00"),
                $"{Cell(r.AcceptSeconds)} / {Cell(r.StagingSeconds)} / {Cell(r.AnswerSeconds)}", BenchReport.Cell(r.Nodes / r.SubmitSeconds, "0"),
                $"{N(r.DuringPost.Passes)}, {BenchReport.Cell(r.DuringPost.CpuSeconds, "0.00")}", $"{r.Overflows.DuringPost} / {r.Overflows.After}", BenchReport.Cell(r.Load),
            ]));
        BenchReport.Table(
            ["backend", "run", "commit → first / last start s", "commit → root start", "root start → end", "root end → first / last middle start",
             "last middle end → last join start", "last join end → sink start", "makespan s", "leader, whole run: passes (mean / p99 / max ms)", "releases", "leader CPU s", "error"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                s.Backend, r.Name, $"{Cell(r.CommitToFirstStart)} / {Cell(r.CommitToLastStart)}", Cell(r.CommitToRootStart), Cell(r.RootStartToEnd),
                $"{Cell(r.RootEndToFirstMiddleStart)} / {Cell(r.RootEndToLastMiddleStart)}", Cell(r.LastMiddleEndToLastJoinStart), Cell(r.LastJoinEndToSinkStart),
                Cell(r.MakespanSeconds), $"{N(r.Whole.Passes)} ({BenchReport.Cell(r.Whole.MeanMs, "0.0")} / ≤{Cell(r.Whole.P99Ms, "0")} / ≤{Cell(r.Whole.MaxMs, "0")})",
                N(r.Whole.Releases), BenchReport.Cell(r.Whole.CpuSeconds, "0.00"), r.Error ?? "-",
            ]));
        BenchReport.Table(
            ["backend", "makespan dag ÷ flat", "overhead ms / edge", "leader CPU ms / edge", "GET /v1/workflows/{id} ms (flat; dag)", "GET body KiB (parse ms)",
             "slow passes (> 1 s) at s after commit (flat; dag)", "watch overflows / restarts / leadership lost"],
            [[s.Backend, BenchReport.Cell(ratio, "0.00"), BenchReport.Cell(perEdgeMs, "0.000"), BenchReport.Cell(cpuPerEdgeMs, "0.000"),
              $"{string.Join(", ", flat.GetMs.Select(g => BenchReport.Cell(g, "0")))}; {string.Join(", ", dag.GetMs.Select(g => BenchReport.Cell(g, "0")))}",
              dag.GetBody is { } g ? $"{BenchReport.Cell(g.Bytes / 1024.0, "0")} ({BenchReport.Cell(g.DeserializeMs, "0")})" : "-",
              $"{string.Join(", ", flat.SlowPassesAt.Select(t => BenchReport.Cell(t)))}; {string.Join(", ", dag.SlowPassesAt.Select(t => BenchReport.Cell(t)))}",
              $"{directorWarnings["watchOverflows"]} / {directorWarnings["watchRestarts"]} / {directorWarnings["leadershipLost"]}"]]);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Cell(double? value, string format = "0.000") => value is { } v ? BenchReport.Cell(v, format) : "-";
}
