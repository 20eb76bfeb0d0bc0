using System.Diagnostics;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>The second part of the waiting scenario: a fan-out/fan-in through the API against as many jobs without edges.</summary>
internal sealed partial class WaitingBench
{
    /// <summary>One measured run: its submission, then from its workers' registration to its last job's finish
    /// (<c>MakespanSeconds</c>; <c>Levels</c> holds the last finish of each level, root, children, reducers, final, in
    /// seconds after the registration started).</summary>
    private sealed record Run(
        string Name, int Jobs, int Edges, double SubmitSeconds, double RegisterSeconds, double? MakespanSeconds, double? RootToFinalSeconds,
        double LeaderCpuSeconds, long Passes, long Releases, IReadOnlyList<double> Levels, double Load);

    /// <summary>The cluster and clients a run uses.</summary>
    private sealed record Rig(BenchCluster Cluster, DirectorProcess Leader, SimulatedAgents Workers, IReadOnlyList<ControlPlaneClient> Clients, Settings Settings);

    private async Task<bool> FanOutFanInAsync(Settings s, CancellationToken cancellationToken)
    {
        await using var cluster = await BenchCluster.StartAsync(s.Backend, s.Directors, 0, 1, s.SessionTimeout, DirectorArgs, cancellationToken).ConfigureAwait(false);
        var leader = await LeaderAsync(cluster, cancellationToken).ConfigureAwait(false);
        await using var agents = await InstantAgents.StartAsync(cluster.Target, cancellationToken).ConfigureAwait(false);
        await using var workers = new SimulatedAgents();
        var clients = cluster.Directors.Select(d => ControlPlaneClient.Create(o =>
        {
            o.Directors.Add(d.Url);
            o.Token = d.Token;
        })).ToList();
        try
        {
            var rig = new Rig(cluster, leader, workers, clients, s);
            // The same shapes at a tenth of the size first, unmeasured: the measured runs meet compiled, tiered code.
            var warm = Math.Max(s.FanIn, s.FanOut / 10);
            await FlatAsync(rig, "warm-flat", warm + s.FanIn + 2, cancellationToken).ConfigureAwait(false);
            await DagAsync(rig, "warm-dag", warm, cancellationToken).ConfigureAwait(false);
            var flat = await FlatAsync(rig, "flat", s.FanOut + s.FanIn + 2, cancellationToken).ConfigureAwait(false);
            var dag = await DagAsync(rig, "dag", s.FanOut, cancellationToken).ConfigureAwait(false);
            var warnings = DirectorWarnings(leader);
            ReportFan(s, flat, dag, agents.Failed, warnings);
            return flat.MakespanSeconds is not null && dag.MakespanSeconds is not null && agents.Failed == 0 && warnings.Values.All(v => v == 0);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary><paramref name="jobs"/> jobs without edges, all Pending until the run's workers register.</summary>
    private static async Task<Run> FlatAsync(Rig rig, string name, int jobs, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var ids = await SubmitAsync(rig, name, Enumerable.Repeat(Spec(name), jobs).ToList(), cancellationToken).ConfigureAwait(false);
        var submitSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return await StartAndFinishAsync(rig, name, 0, submitSeconds, [ids], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>root → <paramref name="fanOut"/> children (each on root) → <c>--fan-in</c> reducers (each on its share of
    /// the children) → final (on every reducer), submitted level by level (a dependency must exist first).</summary>
    private static async Task<Run> DagAsync(Rig rig, string name, int fanOut, CancellationToken cancellationToken)
    {
        var fanIn = rig.Settings.FanIn;
        static JobDependency[] On(IEnumerable<string> ids) => [.. ids.Select(id => new JobDependency { Job = id })];
        var started = Stopwatch.GetTimestamp();
        var root = await SubmitAsync(rig, $"{name}-root", [Spec(name)], cancellationToken).ConfigureAwait(false);
        var children = await SubmitAsync(rig, $"{name}-child", Enumerable.Repeat(Spec(name, On(root)), fanOut).ToList(), cancellationToken).ConfigureAwait(false);
        var reducers = await SubmitAsync(
            rig, $"{name}-reducer", [.. Enumerable.Range(0, fanIn).Select(r => Spec(name, On(children[(r * fanOut / fanIn)..((r + 1) * fanOut / fanIn)])))], cancellationToken)
            .ConfigureAwait(false);
        var final = await SubmitAsync(rig, $"{name}-final", [Spec(name, On(reducers))], cancellationToken).ConfigureAwait(false);
        var submitSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return await StartAndFinishAsync(rig, name, (2 * fanOut) + fanIn, submitSeconds, [root, children, reducers, final], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Submits <paramref name="specs"/> through the client library, <c>--concurrency</c> at a time over the
    /// directors, each with its own idempotency key (so a 503 is retried safely, as a caller's client would); returns
    /// the ids in the order of the specs.</summary>
    private static async Task<string[]> SubmitAsync(Rig rig, string keyPrefix, IReadOnlyList<JobSpec> specs, CancellationToken cancellationToken)
    {
        var ids = new string[specs.Count];
        var run = Guid.NewGuid().ToString("N")[..8];
        await Parallel.ForAsync(0, specs.Count, new ParallelOptions { MaxDegreeOfParallelism = rig.Settings.Concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
            ids[i] = (await rig.Clients[i % rig.Clients.Count].SubmitJobAsync(specs[i], $"waiting-{run}-{keyPrefix}-{i}", ct).ConfigureAwait(false)).Id).ConfigureAwait(false);
        return ids;
    }

    /// <summary>
    /// Registers the run's workers (pool <paramref name="name"/>, which every job of the run requires) and waits (at
    /// most 10 min) until the leader has folded every job's result; then reads the jobs' finish times (the leader's
    /// clock, the same machine's as the bench's) to time the run from the registration.
    /// </summary>
    private static async Task<Run> StartAndFinishAsync(Rig rig, string name, int edges, double submitSeconds, IReadOnlyList<string[]> levels, CancellationToken cancellationToken)
    {
        var leader = rig.Leader;
        var jobs = levels.Sum(l => l.Length);
        async Task<double> Metric(string series, string? filter) =>
            (await DirectorMetricsScrape.ScrapeAsync(leader, filter, cancellationToken).ConfigureAwait(false)).GetValueOrDefault(series);
        const string Writes = "controlplane_scheduler_writes_total";
        var finishes = await Metric(Writes, "kind=\"finish\"").ConfigureAwait(false);
        var releases = await Metric(Writes, "kind=\"release\"").ConfigureAwait(false);
        var passes = await Metric("controlplane_scheduler_pass_duration_seconds_count", null).ConfigureAwait(false);
        var cpu = BenchReport.CpuSeconds(leader.Process.ProcessId);

        var startedAt = DateTimeOffset.UtcNow;
        var registering = Stopwatch.GetTimestamp();
        await rig.Workers.RegisterAsync(rig.Cluster.Target, name, rig.Settings.FanWorkers, rig.Settings.FanWorkers, 1, cancellationToken, rig.Settings.FanSlots, name)
            .ConfigureAwait(false);
        var registerSeconds = Stopwatch.GetElapsedTime(registering).TotalSeconds;
        var done = await PollAsync(
            async () => await Metric(Writes, "kind=\"finish\"").ConfigureAwait(false) - finishes >= jobs,
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        var cpuSeconds = BenchReport.CpuSeconds(leader.Process.ProcessId) - cpu;
        var passCount = (long)(await Metric("controlplane_scheduler_pass_duration_seconds_count", null).ConfigureAwait(false) - passes);
        var releaseCount = (long)(await Metric(Writes, "kind=\"release\"").ConfigureAwait(false) - releases);
        var load = BenchReport.LoadAverage();

        // Finish times of the run's jobs, by level (one listing of the Succeeded jobs, 500 a page).
        var finished = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var wanted = levels.SelectMany(l => l).ToHashSet(StringComparer.Ordinal);
        await foreach (var job in rig.Clients[0].ListJobsAsync(new JobFilter { State = JobState.Succeeded, PageSize = 500 }, cancellationToken).ConfigureAwait(false))
        {
            if (wanted.Contains(job.Id) && job.FinishedAt is { } at)
            {
                finished[job.Id] = at;
            }
        }

        var levelEnds = levels.Select(l => l.All(finished.ContainsKey) ? (l.Max(id => finished[id]) - startedAt).TotalSeconds : double.NaN).ToList();
        var complete = done is not null && finished.Count == jobs;
        double? rootToFinal = complete && levels.Count > 1 ? (finished[levels[^1][0]] - finished[levels[0][0]]).TotalSeconds : null;
        var run = new Run(name, jobs, edges, submitSeconds, registerSeconds, complete ? levelEnds.Max() : null, rootToFinal, cpuSeconds, passCount, releaseCount, levelEnds, load);
        BenchReport.Json(new
        {
            scenario = "waiting", phase = "run", run = name, jobs, edges, submitSeconds = Math.Round(submitSeconds, 2),
            submitPerSecond = Math.Round(jobs / submitSeconds, 1), registerSeconds = Math.Round(registerSeconds, 2),
            makespanSeconds = run.MakespanSeconds is { } m ? Math.Round(m, 2) : (double?)null,
            rootToFinalSeconds = rootToFinal is { } r ? Math.Round(r, 2) : (double?)null,
            levelEndsSeconds = levelEnds.Select(e => BenchReport.Round(e, 2)), finished = finished.Count,
            leaderCpuSeconds = Math.Round(cpuSeconds, 2), passes = passCount, releases = releaseCount, loadAverage = load,
        });
        return run;
    }
}
