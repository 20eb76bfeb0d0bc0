using System.Diagnostics;
using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.TestSupport;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The cells part of the scale scenario (<c>--cells 1,2,4</c>, docs/cells.md): for each cell count in turn, on one
/// store and the same directors, W simulated workers split evenly over the cells (each registered in its cell's
/// subtree as an agent with <c>Agent:Cell</c> is, every named cell in the registry), N jobs named to the cells evenly
/// and written straight into each cell's subtree (the API's record, without the HTTP hop), and simulated agents that
/// report every attempt Succeeded as soon as it is assigned. It measures jobs/s end to end: from the first job
/// written to the last one folded by its cell's leader (the directors' <c>finish</c> write counter). The cells are
/// reused from one count to the next (<c>default</c>, then <c>cell-1</c>, <c>cell-2</c> …); between two counts the
/// workers leave and the jobs are deleted, so each count starts from empty cells with settled leaders. A warm-up of
/// <c>--warmup</c> jobs (2,000; 0 for none) with the largest count comes first, unmeasured: it registers every cell
/// up front, so during a smaller count the other cells are led but idle (no workers, no jobs).
/// </summary>
internal sealed partial class ScaleBench
{
    /// <summary>Most cells one count may ask for.</summary>
    private const int MaxCellCount = 64;

    /// <summary>Bound on one count's run, from the first job written to the last one finished.</summary>
    private static readonly TimeSpan CellRunBound = TimeSpan.FromMinutes(5);

    private sealed record CellFigures(
        int Cells, int Jobs, int Workers, string Leaders, double WriteSeconds, double Seconds, int Reported, double Load);

    /// <summary>Parses <c>--cells</c>: cell counts separated by commas, each from 1 to 64 (<c>1,2,4</c>).</summary>
    /// <exception cref="ArgumentException">Says which entry is wrong and why.</exception>
    internal static IReadOnlyList<int> ParseCellCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count is < 1 or > MaxCellCount)
            {
                throw new ArgumentException($"--cells takes cell counts from 1 to {MaxCellCount} separated by commas (e.g. 1,2,4); '{part}' in '{text}' is not one.");
            }

            counts.Add(count);
        }

        return counts;
    }

    private static async Task<int> RunCellsAsync(BenchArgs options, string cellCounts, CancellationToken cancellationToken)
    {
        var counts = ParseCellCounts(cellCounts);
        var backend = options.String("backend") ?? "zookeeper";
        var directors = options.Int("directors", 3);
        var agents = options.Int("agents", 2000);
        var perSession = options.Int("agents-per-session", 100);
        var jobs = options.Int("jobs", 20000);
        var workerSlots = options.Int("worker-slots", 4);
        var warmup = options.Int("warmup", 2000);
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        if (agents < counts.Max() || jobs < counts.Max())
        {
            throw new ArgumentException($"--agents ({agents}) and --jobs ({jobs}) must be at least the largest cell count ({counts.Max()}): every cell gets workers and jobs.");
        }

        if (warmup < 0)
        {
            throw new ArgumentException($"--warmup is a number of jobs, 0 or more; got {warmup}.");
        }

        // Simulated agents report without a Running step; a new cell is found and led within a second or two.
        string[] directorArgs =
        [
            "--Scheduler:StartTimeout=1.00:00:00", "--Director:CellDiscoveryInterval=00:00:00.500", "--Director:SpreadInterval=00:00:01",
        ];
        await using var cluster = await BenchCluster.StartAsync(backend, directors, 0, 1, sessionTimeout, directorArgs, cancellationToken).ConfigureAwait(false);
        var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RawStoreWrites.ConnectAsync(cluster.Target, cancellationToken))).ConfigureAwait(false);
        try
        {
            if (warmup >= counts.Max())
            {
                // Not measured: the first count would otherwise pay for the directors' (and this process's) first
                // compilation of the leader's paths. The largest count puts a cell on as many directors as it can.
                var warm = await MeasureCellsAsync(cluster, stores, counts.Max(), agents, perSession, warmup, workerSlots, cancellationToken).ConfigureAwait(false);
                BenchReport.Json(new { scenario = "scale", phase = "cells-warmup", cells = warm.Cells, jobs = warm.Jobs, leaders = warm.Leaders, seconds = Math.Round(warm.Seconds, 2) });
            }

            var results = new List<CellFigures>();
            foreach (var count in counts)
            {
                var figures = await MeasureCellsAsync(cluster, stores, count, agents, perSession, jobs, workerSlots, cancellationToken).ConfigureAwait(false);
                results.Add(figures);
                BenchReport.Json(new
                {
                    scenario = "scale", phase = "cells", backend, directors, cells = figures.Cells, workers = figures.Workers, jobs = figures.Jobs,
                    leaders = figures.Leaders, writeSeconds = Math.Round(figures.WriteSeconds, 2), seconds = Math.Round(figures.Seconds, 2),
                    jobsPerSecond = Math.Round(figures.Jobs / figures.Seconds), vsFirst = Math.Round(VersusFirst(results, figures), 2),
                    reported = figures.Reported, loadAverage = figures.Load,
                });
            }

            ReportCells(backend, directors, results);
            return 0;
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One cell count, from registering its cells to deleting its jobs.</summary>
    private static async Task<CellFigures> MeasureCellsAsync(
        BenchCluster cluster, IReadOnlyList<ICoordinationStore> stores, int count, int agents, int perSession, int jobs, int workerSlots,
        CancellationToken cancellationToken)
    {
        var cells = Enumerable.Range(0, count).Select(i => i == 0 ? Cells.Default : $"cell-{i}").ToList();
        foreach (var cell in cells)
        {
            await CellRegistry.EnsureAsync(stores[0], cell, "bench", TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }

        // Every cell led, and no director over its share (⌈cells / directors⌉) of every registered cell, this count's
        // and those a larger count (the warm-up) left idle: the directors spread all of them, so leadership has
        // settled and nothing moves during the measurement.
        var seen = "no listing yet";
        await Eventually.UntilAsync(
            async () =>
            {
                var view = await CellViewsAsync(cluster).ConfigureAwait(false);
                var share = (view.Count + cluster.Directors.Count - 1) / cluster.Directors.Count;
                seen = $"a share of {share} at most; " + string.Join(", ", view.Select(c => $"{c.Cell}: {c.Leader ?? "no leader"}"));
                return cells.All(c => view.Any(v => v.Cell == c)) && view.All(c => c.Leader is not null) && view.GroupBy(c => c.Leader).All(g => g.Count() <= share);
            },
            TimeSpan.FromMinutes(2),
            () => $"{count} cells; GET /v1/cells: {seen}").ConfigureAwait(false);

        await using var simulated = new SimulatedAgents();
        var workers = Split(agents, count);
        for (var i = 0; i < count; i++)
        {
            await simulated.RegisterAsync(cluster.Target, $"c{count}-{cells[i]}", workers[i], perSession, 64, cancellationToken, workerSlots, Pool, cells[i]).ConfigureAwait(false);
        }

        await Eventually.UntilAsync(
            async () =>
            {
                var view = await CellViewsAsync(cluster).ConfigureAwait(false);
                seen = string.Join(", ", view.Select(c => $"{c.Cell}: {c.Workers}"));
                return cells.Select((c, i) => view.FirstOrDefault(v => v.Cell == c)?.Workers == workers[i]).All(ok => ok);
            },
            TimeSpan.FromMinutes(1),
            () => $"workers per cell expected {string.Join(", ", workers)}; GET /v1/cells: {seen}").ConfigureAwait(false);
        var leaders = string.Join("; ", (await CellViewsAsync(cluster).ConfigureAwait(false)).Where(c => cells.Contains(c.Cell))
            .GroupBy(c => c.Leader).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {string.Join(" ", g.Select(c => c.Cell))}"));

        // The cells' agents: one watch of each cell's assignments, reporting at most 32 at once in all.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var caches = new List<WatchCache>();
        try
        {
            foreach (var cell in cells)
            {
                var cache = new WatchCache(stores[0].ForCell(cell), StoreLayout.Assignments);
                cache.EnableChangeLog();
                caches.Add(cache);
                await cache.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var reporting = cells.Select((cell, i) => ReportAssignedAsync(stores[i % stores.Count].ForCell(cell), caches[i], Math.Max(1, 32 / count), stop.Token)).ToList();
            var before = await FinishedAsync(cluster, cancellationToken).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            var written = await WriteCellJobsAsync(stores, cells, Split(jobs, count), cancellationToken).ConfigureAwait(false);
            var writeSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await Eventually.UntilAsync(
                async () => await FinishedAsync(cluster, cancellationToken).ConfigureAwait(false) - before >= jobs,
                CellRunBound).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var load = BenchReport.LoadAverage();
            await stop.CancelAsync().ConfigureAwait(false);
            var reported = (await Task.WhenAll(reporting).ConfigureAwait(false)).Sum();

            // Start the next count from empty cells: the workers leave (sessions closed) and the finished jobs go.
            await simulated.DisposeAsync().ConfigureAwait(false);
            await DeleteJobsAsync(stores, written, cancellationToken).ConfigureAwait(false);
            return new CellFigures(count, jobs, agents, leaders, writeSeconds, seconds, reported, load);
        }
        finally
        {
            foreach (var cache in caches)
            {
                await cache.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary><paramref name="total"/> split into <paramref name="parts"/> shares differing by at most one.</summary>
    private static int[] Split(int total, int parts) => [.. Enumerable.Range(0, parts).Select(i => (total / parts) + (i < total % parts ? 1 : 0))];

    private static async Task<List<CellView>> CellViewsAsync(BenchCluster cluster)
    {
        using var response = await cluster.Directors[0].Client.Http.GetAsync(new Uri("/v1/cells", UriKind.Relative)).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return ContractJson.Deserialize<List<CellView>>(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
    }

    /// <summary>Attempts folded by every director's leader stacks so far (the <c>finish</c> writes committed).</summary>
    private static async Task<double> FinishedAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        var total = 0.0;
        foreach (var director in cluster.Directors)
        {
            total += (await DirectorMetricsScrape.ScrapeAsync(director, "kind=\"finish\"", cancellationToken).ConfigureAwait(false))
                .GetValueOrDefault("controlplane_scheduler_writes_total");
        }

        return total;
    }

    /// <summary>Writes each cell's share of Pending jobs (32 per transaction, 16 in flight) into its subtree, named
    /// to it; returns every job's cell and key.</summary>
    private static async Task<List<(string Cell, string Key)>> WriteCellJobsAsync(
        IReadOnlyList<ICoordinationStore> stores, IReadOnlyList<string> cells, int[] shares, CancellationToken cancellationToken)
    {
        const int PerTransaction = 32;
        var perCell = cells.Select((cell, i) => Enumerable.Range(0, (shares[i] + PerTransaction - 1) / PerTransaction)
            .Select(k => (Cell: cell, Count: Math.Min(PerTransaction, shares[i] - (k * PerTransaction)))).ToList()).ToList();
        // The cells' batches in turn, so every cell's jobs arrive from the start, as evenly named submissions would.
        var batches = Enumerable.Range(0, perCell.Max(l => l.Count)).SelectMany(k => perCell.Where(l => k < l.Count).Select(l => l[k])).ToList();
        var written = new List<(string Cell, string Key)>[batches.Count];
        await Parallel.ForAsync(0, batches.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            var (cell, count) = batches[b];
            var spec = JobSpecValidator.Normalize(new JobSpec
            {
                Executor = "echo",
                Constraints = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = Pool },
                Cell = cell == Cells.Default ? null : cell,
            });
            var transaction = new Transaction();
            var keys = new List<(string Cell, string Key)>(count);
            for (var i = 0; i < count; i++)
            {
                var job = new JobRecord { Id = JobIds.New(), Spec = spec, State = JobState.Pending, Attempt = 1, CreatedAt = DateTimeOffset.UtcNow };
                transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
                keys.Add((cell, StoreLayout.Job(job.Id)));
            }

            var result = await stores[b % stores.Count].ForCell(cell).CommitAsync(transaction, ct).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"The store refused a batch of new jobs in cell {cell}.");
            }

            written[b] = keys;
        }).ConfigureAwait(false);
        return [.. written.SelectMany(k => k)];
    }

    /// <summary>
    /// A cell's simulated agents: every assignment that appears in <paramref name="assignments"/> is reported Succeeded
    /// at once (the agent's result write, on the version read), <paramref name="parallelism"/> at a time, until
    /// <paramref name="cancellationToken"/> fires. Returns how many reports the store took.
    /// </summary>
    private static async Task<int> ReportAssignedAsync(ICoordinationStore cell, WatchCache assignments, int parallelism, CancellationToken cancellationToken)
    {
        var reported = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (true)
            {
                // New assignments since the last round; our own reports come back as puts of keys already seen.
                var (changes, _, _) = assignments.TakeChanges();
                var fresh = changes.Where(c => c.Item is { } item && item.Value.Length > 0 && seen.Add(c.Key)).Select(c => c.Item!).ToList();
                if (fresh.Count == 0)
                {
                    // Not a retry: the simulated agents' tick while nothing new was assigned.
                    await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await Parallel.ForEachAsync(fresh, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (item, ct) =>
                {
                    var record = ContractJson.Deserialize<AssignmentRecord>(item.Value.Span);
                    var now = DateTimeOffset.UtcNow;
                    var report = record with { State = AttemptState.Succeeded, ExitCode = 0, StartedAt = now, FinishedAt = now };
                    if ((await cell.CommitAsync(new Transaction().Update(item.Key, ContractJson.Serialize(report), item.Version), ct).ConfigureAwait(false)).Succeeded)
                    {
                        Interlocked.Increment(ref reported);
                    }
                }).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return reported;
        }
    }

    /// <summary>Deletes the jobs of a finished count (32 per transaction), so the next count starts from empty cells.</summary>
    private static async Task DeleteJobsAsync(IReadOnlyList<ICoordinationStore> stores, List<(string Cell, string Key)> jobs, CancellationToken cancellationToken)
    {
        var batches = jobs.GroupBy(j => j.Cell).SelectMany(g => g.Chunk(32).Select(chunk => (Cell: g.Key, Keys: chunk.Select(j => j.Key).ToList()))).ToList();
        await Parallel.ForAsync(0, batches.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            var transaction = new Transaction();
            foreach (var key in batches[b].Keys)
            {
                transaction.Delete(key);
            }

            await stores[b % stores.Count].ForCell(batches[b].Cell).CommitAsync(transaction, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Jobs/s of <paramref name="figures"/> over the mean jobs/s of every run so far with the first run's cell
    /// count: list that count last as well (<c>1,2,4,1</c>) and the baseline brackets the others, so a machine whose
    /// speed drifts during the run is seen, and partly averaged out.</summary>
    private static double VersusFirst(IReadOnlyList<CellFigures> results, CellFigures figures) =>
        figures.Jobs / figures.Seconds / results.Where(r => r.Cells == results[0].Cells).Average(r => r.Jobs / r.Seconds);

    private static void ReportCells(string backend, int directors, IReadOnlyList<CellFigures> results)
    {
        var first = results[0];
        BenchReport.Table(
            ["backend", "cells", "directors", "workers", "jobs", "leaders (director: cells)", "write s", "end to end s", "jobs/s", $"vs {first.Cells} cell(s), mean", "load"],
            results.Select(r => (IReadOnlyList<string>)
            [
                backend, $"{r.Cells}", $"{directors}", $"{r.Workers}", $"{r.Jobs}", r.Leaders, BenchReport.Cell(r.WriteSeconds, "0.0"),
                BenchReport.Cell(r.Seconds, "0.0"), BenchReport.Cell(r.Jobs / r.Seconds, "0"), BenchReport.Cell(VersusFirst(results, r), "0.00"),
                BenchReport.Cell(r.Load, "0.0"),
            ]));
    }
}
