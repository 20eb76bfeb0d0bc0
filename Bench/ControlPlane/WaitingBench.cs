using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// Waiting jobs (issue 19): what they cost the leader while they wait, how fast it releases them, and what an edge
/// costs a workflow. <c>waiting --backend zookeeper|etcd --waiting 100000 --fan-out 10000 --fan-in 10</c>. Two parts,
/// each on its own cluster (one director, simulated agents that finish every attempt at once, <see cref="InstantAgents"/>):
/// <list type="number">
/// <item><b>Idle cost and release.</b> A blocker job that stays Pending (no worker matches it), a small churn of
/// ordinary jobs (<c>--churn-rate</c> a second, written as the API writes them and run by the simulated agents), and
/// three windows of <c>--window-seconds</c>: two before and one after <c>--waiting</c> N Waiting jobs are written, each
/// depending on the blocker <c>on: completion</c> (the API's record, straight into the store, 32 a transaction, at most
/// <c>--write-rate</c> a second, default 2,000, the rate the published figures use; 0 writes as fast as the store takes them). Each
/// window reports the leader's passes (count, p50/p99 from its histogram, mean), items judged per pass, and the
/// leader's CPU; the two windows without are the noise floor for the ratio with/without. Then the churn stops, the
/// blocker is cancelled through the API, and the time until the leader has committed N releases is measured.</item>
/// <item><b>Fan-out / fan-in through the API</b> (<c>ControlPlane.Client</c>, <c>--concurrency</c> in flight): root →
/// <c>--fan-out</c> children (each depends on root) → <c>--fan-in</c> reducers (each on its share of the children) →
/// final (on every reducer); and, in the same run, as many jobs without edges. Each run's jobs require a pool label no
/// worker has until the run starts, when <c>--fan-workers</c> × <c>--fan-slots</c> simulated workers with it register:
/// the makespan is from that registration to the last job's finish (the leader's clock), so the difference between the
/// two runs is what the edges cost (release passes and the levels' sequence), divided per edge.</item>
/// </list>
/// <c>--waiting 0</c> or <c>--fan-out 0</c> skips a part.
/// </summary>
internal sealed partial class WaitingBench : IScenario
{
    /// <summary>A label no worker has: jobs requiring it stay Pending (the blocker, and the released jobs).</summary>
    private const string Nowhere = "nowhere";

    /// <summary>The pool label of the churn's simulated workers and jobs.</summary>
    internal const string ChurnPool = "churn";

    /// <summary>Simulated agents report Running and the result in one write, so the leader must not take back an
    /// attempt for a missing start; the watchdog stays at its default. The ZooKeeper store logs what each watch's
    /// listing cost (the directors log warnings only otherwise).</summary>
    private static readonly string[] DirectorArgs = ["--Scheduler:StartTimeout=1.00:00:00", "--Logging:LogLevel:ControlPlane.Coordination.ZooKeeper=Information"];

    public string Name => "waiting";

    public string Summary => "Waiting jobs: leader pass/CPU with 100,000 waiting vs none, their release rate, a 10,000-node fan-out/fan-in vs no edges (--backend zookeeper|etcd --waiting 100000 --fan-out 10000)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var settings = new Settings(
            options.String("backend") ?? "zookeeper",
            options.Int("directors", 1),
            TimeSpan.FromSeconds(options.Int("session-timeout", 10)),
            options.Int("waiting", 100_000),
            options.Int("write-rate", 2000),
            options.Int("churn-rate", 50),
            options.Int("window-seconds", 20),
            options.Int("warmup-seconds", 30),
            options.Int("workers", 10),
            options.Int("slots", 100),
            options.Int("fan-out", 10_000),
            options.Int("fan-in", 10),
            options.Int("fan-workers", 10),
            options.Int("fan-slots", 1000),
            options.Int("concurrency", 32));
        if (settings.FanIn < 1 || settings.FanOut < 0 || (settings.FanOut > 0 && settings.FanOut < settings.FanIn) || settings.FanOut > settings.FanIn * Limits.MaxDependencies)
        {
            throw new ArgumentException($"--fan-in must be 1 or more and at most --fan-out, and each reducer takes at most {Limits.MaxDependencies} children.");
        }

        var ok = true;
        if (settings.Waiting > 0)
        {
            ok &= await IdleAndReleaseAsync(settings, cancellationToken).ConfigureAwait(false);
        }

        if (settings.FanOut > 0)
        {
            ok &= await FanOutFanInAsync(settings, cancellationToken).ConfigureAwait(false);
        }

        return ok ? 0 : 1;
    }

    private sealed record Settings(
        string Backend, int Directors, TimeSpan SessionTimeout, int Waiting, int WriteRate, int ChurnRate, int WindowSeconds, int WarmupSeconds,
        int Workers, int Slots, int FanOut, int FanIn, int FanWorkers, int FanSlots, int Concurrency);

    /// <summary>The director that leads (BenchCluster has waited for one); its pid and log go to stderr.</summary>
    internal static async Task<DirectorProcess> LeaderAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        var view = await cluster.Directors[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("no leader");
        var leader = cluster.Directors.Single(d => d.Process.Name == view.DirectorId);
        // For a profiler (dotnet-trace -p) and for reading its log while the run goes on.
        await Console.Error.WriteLineAsync($"leader: pid {leader.Process.ProcessId}, log {leader.Process.LogPath}").ConfigureAwait(false);
        return leader;
    }

    /// <summary>An echo job requiring <c>pool=</c><paramref name="pool"/>, as the API normalizes it.</summary>
    internal static JobSpec Spec(string pool, IReadOnlyList<JobDependency>? dependsOn = null) => new()
    {
        Executor = "echo",
        Args = JsonDocument.Parse("{}").RootElement,
        Constraints = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = pool },
        DependsOn = dependsOn,
    };

    /// <summary>GET /v1/jobs/counts: jobs per state as the leader last published them (null before the first).</summary>
    internal static async Task<IReadOnlyDictionary<string, int>?> CountsAsync(DirectorProcess director, CancellationToken cancellationToken)
    {
        using var response = await director.Client.Http.GetAsync(new Uri("/v1/jobs/counts", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? ContractJson.Deserialize<JobCountsView>(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)).Counts
            : null;
    }

    /// <summary>Polls every <paramref name="every"/> (at most <paramref name="bound"/>) until <paramref name="done"/>;
    /// returns the seconds it took, or null if it never held.</summary>
    internal static async Task<double?> PollAsync(Func<Task<bool>> done, TimeSpan every, TimeSpan bound, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < bound)
        {
            if (await done().ConfigureAwait(false))
            {
                return Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            // Not a retry: the pace of a bounded poll for a condition the bench cannot be told about.
            await Task.Delay(every, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }
}
