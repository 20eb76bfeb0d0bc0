using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// How long the jobs of a dead agent wait before they run elsewhere: a store, one director and agent A run J long
/// sleep jobs; agent B joins; A is killed with -9. Per job, the figure is the start of attempt 2 on B (its
/// <c>startedAt</c>, written from B's report) minus the kill, split at attempt 2's assignment. The store notices the
/// death only when A's session expires, so the figure is about the session timeout plus the leader's retry backoff
/// (<c>Scheduler:RetryBackoff</c>, 1 s) plus one assignment and one agent report.
/// <c>reassign --backend zookeeper|etcd --jobs 20 --session-timeout 10</c>.
/// </summary>
/// <remarks>Raw HTTP (TestSupport's DirectorClient) on purpose, not ControlPlane.Client: it measures the API, not the client.</remarks>
internal sealed class ReassignBench : IScenario
{
    public string Name => "reassign";

    public string Summary => "agent kill -9 to its jobs Running on another agent (--backend zookeeper|etcd --jobs 20 --session-timeout 10)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var count = options.Int("jobs", 20);
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        await using var cluster = await BenchCluster.StartAsync(backend, 1, 1, count, sessionTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        var load = BenchReport.LoadAverage();
        var client = cluster.Directors[0].Client;
        var victim = cluster.Agents[0];

        // Long enough to outlive the measurement; disposal of the cluster ends them.
        var payload = JsonDocument.Parse("""{"seconds":3600}""").RootElement;
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await client.SubmitAsync(new JobSpec { Executor = "sleep", Args = payload }, cancellationToken: cancellationToken).ConfigureAwait(false)).Id);
        }

        if ((await WaitAsync(client, ids, j => j.State == JobState.Running && j.WorkerId == victim.Name, TimeSpan.FromMinutes(2), "running on A", cancellationToken).ConfigureAwait(false)).Count < count)
        {
            return 1;
        }

        var survivor = await cluster.Apps.StartAgentAsync(cluster.Target, "agent-2", count, ["--Logging:LogLevel:Default=Warning"]).ConfigureAwait(false);
        cluster.Agents.Add(survivor);
        await cluster.WaitForWorkersAsync(2).ConfigureAwait(false);

        await victim.KillAsync().ConfigureAwait(false);
        var killedAt = victim.KilledAt!.Value;
        // When the directors stop listing A: its session expired (polled every 50 ms, so ±50 ms plus one request).
        var gone = WaitForDepartureAsync(client, victim.Name, sessionTimeout * 3, cancellationToken);
        var moved = await WaitAsync(client, ids, j => j.State == JobState.Running && j.WorkerId == survivor.Name && j.Attempt >= 2,
            sessionTimeout * 3 + TimeSpan.FromMinutes(1), "running on B", cancellationToken).ConfigureAwait(false);

        var goneMs = (await gone.ConfigureAwait(false) - killedAt).TotalMilliseconds;
        var running = moved.Where(j => j.StartedAt is not null && j.AssignedAt is not null).ToList();
        var (a50, _, a99, amax) = Percentiles.Of(running.Select(j => (j.AssignedAt!.Value - killedAt).TotalMilliseconds).ToList());
        var (r50, _, r99, rmax) = Percentiles.Of(running.Select(j => (j.StartedAt!.Value - killedAt).TotalMilliseconds).ToList());
        BenchReport.Json(new
        {
            scenario = "reassign", backend, jobs = count, sessionTimeoutSeconds = sessionTimeout.TotalSeconds, moved = running.Count,
            workerGoneMs = BenchReport.Round(goneMs),
            assignedP50Ms = BenchReport.Round(a50), assignedP99Ms = BenchReport.Round(a99), assignedMaxMs = BenchReport.Round(amax),
            runningP50Ms = BenchReport.Round(r50), runningP99Ms = BenchReport.Round(r99), runningMaxMs = BenchReport.Round(rmax),
            loadAverage = load,
        });
        BenchReport.Table(
            ["backend", "session", "jobs", "moved", "kill → A unlisted s", "kill → assigned p50/p99/max s", "kill → running p50/p99/max s"],
            [[backend, $"{sessionTimeout.TotalSeconds:0} s", $"{count}", $"{running.Count}", BenchReport.Cell(goneMs / 1000, "0.00"),
              $"{BenchReport.Cell(a50 / 1000, "0.00")} / {BenchReport.Cell(a99 / 1000, "0.00")} / {BenchReport.Cell(amax / 1000, "0.00")}",
              $"{BenchReport.Cell(r50 / 1000, "0.00")} / {BenchReport.Cell(r99 / 1000, "0.00")} / {BenchReport.Cell(rmax / 1000, "0.00")}"]]);
        return running.Count == count ? 0 : 1;
    }

    /// <summary>When <c>GET /v1/workers</c> first no longer lists <paramref name="workerId"/> (bench clock), or
    /// <see cref="DateTimeOffset.MaxValue"/> after <paramref name="timeout"/>.</summary>
    private static async Task<DateTimeOffset> WaitForDepartureAsync(
        TestSupport.ControlPlane.DirectorClient client, string workerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if ((await client.WorkersAsync(cancellationToken).ConfigureAwait(false)).All(w => w.Id != workerId))
            {
                return DateTimeOffset.UtcNow;
            }

            // Not a retry: the pace of the bounded poll for the worker to leave the listing.
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return DateTimeOffset.MaxValue;
    }

    /// <summary>Polls (every 100 ms, up to <paramref name="timeout"/>) until every job satisfies <paramref name="done"/>;
    /// returns the jobs that do at the end.</summary>
    private static async Task<List<JobView>> WaitAsync(
        TestSupport.ControlPlane.DirectorClient client, List<string> ids, Func<JobView, bool> done, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        List<JobView> matching = [];
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var all = await client.AllJobsAsync(cancellationToken).ConfigureAwait(false);
            matching = all.Where(j => wanted.Contains(j.Id) && done(j)).ToList();
            if (matching.Count == wanted.Count)
            {
                return matching;
            }

            // Not a retry: the pace of the bounded poll for the jobs to be done.
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        await Console.Error.WriteLineAsync($"only {matching.Count} of {wanted.Count} jobs {what} after {timeout.TotalSeconds:0} s").ConfigureAwait(false);
        return matching;
    }
}
