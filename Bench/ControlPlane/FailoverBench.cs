using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// How long scheduling stops when the leader goes: while a client submits a job every 20 ms through a director that
/// stays up, the leader is killed with -9 (or stopped with SIGTERM, a graceful handover); the figure is the time from
/// the kill to the first assignment made under the successor's epoch.
/// <c>failover --backend zookeeper|etcd --rounds 3 --session-timeout 10 [--graceful]</c>.
/// </summary>
internal sealed class FailoverBench : IScenario
{
    public string Name => "failover";

    public string Summary => "leader kill -9 (or --graceful SIGTERM) to first assignment by the successor (--backend zookeeper|etcd --rounds 3 --session-timeout 10)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var rounds = options.Int("rounds", 3);
        var graceful = options.String("graceful") == "true";
        var sessionTimeout = TimeSpan.FromSeconds(options.Int("session-timeout", 10));
        await using var cluster = await BenchCluster.StartAsync(backend, 3, 2, 16, sessionTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        var figures = new List<double>();
        var payload = JsonDocument.Parse("{}").RootElement;
        for (var round = 1; round <= rounds; round++)
        {
            var client = cluster.Directors[0].Client;
            var leader = await client.LeaderAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("no leader");
            var victim = cluster.Directors.Single(d => d.Process.Name == leader.DirectorId);
            var submitter = cluster.Directors.First(d => d != victim);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var submitted = new List<string>();
            var feeding = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        submitted.Add((await submitter.Client.SubmitAsync(new JobSpec { Executor = "echo", Args = payload }, cancellationToken: stop.Token).ConfigureAwait(false)).Id);
                        await Task.Delay(20, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }, CancellationToken.None);
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);

            var killedAt = DateTimeOffset.UtcNow;
            if (graceful)
            {
                await victim.Process.TerminateAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            }
            else
            {
                await victim.Process.KillAsync().ConfigureAwait(false);
            }

            // The successor's first assignment: the earliest assignedAt under an epoch newer than the victim's.
            double? seconds = null;
            var deadline = Stopwatch.GetTimestamp() + (long)(sessionTimeout.TotalSeconds * 6 * Stopwatch.Frequency);
            while (seconds is null && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                var jobs = await submitter.Client.AllJobsAsync(cancellationToken).ConfigureAwait(false);
                var first = jobs.Where(j => j.Epoch > leader.Epoch && j.AssignedAt is not null).Select(j => j.AssignedAt!.Value).DefaultIfEmpty().Min();
                if (first != default)
                {
                    seconds = (first - killedAt).TotalSeconds;
                }
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await feeding.ConfigureAwait(false);
            var result = new { scenario = "failover", backend, round, graceful, sessionTimeoutSeconds = sessionTimeout.TotalSeconds, seconds };
            Console.WriteLine(JsonSerializer.Serialize(result));
            if (seconds is { } s)
            {
                figures.Add(s);
            }

            // Bring the director back for the next round.
            cluster.Directors.Remove(victim);
            cluster.Directors.Add(await cluster.Apps.StartDirectorAsync(cluster.Target, victim.Process.Name, ["--Logging:LogLevel:Default=Warning"], cancellationToken).ConfigureAwait(false));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nbackend    mode       session  rounds  failover s (each)\n{backend,-10} {(graceful ? "SIGTERM" : "kill -9"),-10} {sessionTimeout.TotalSeconds,5:0} s  {figures.Count,-7} {string.Join(" / ", figures.Select(f => f.ToString("0.00", CultureInfo.InvariantCulture)))}"));
        return figures.Count == rounds ? 0 : 1;
    }
}
