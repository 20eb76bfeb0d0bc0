using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// How long scheduling stops when the leader goes: while a client submits a job every 20 ms through a director that
/// stays up, the leader is killed with -9 (or stopped with SIGTERM, a graceful handover); the figure is the time from
/// the kill to the first assignment made under the successor's epoch, with the moment a surviving
/// director first reports the successor as leader (polled every 200 ms). The victim is restarted before the next round.
/// <c>failover --backend zookeeper|etcd --rounds 3 --session-timeout 10 [--graceful]</c>.
/// </summary>
/// <remarks>Raw HTTP (TestSupport's DirectorClient) on purpose, not ControlPlane.Client: it times what the API does across a director's death, which the
/// client's failover would mask.</remarks>
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
        var load = BenchReport.LoadAverage();
        var rows = new List<IReadOnlyList<string>>();
        var measured = 0;
        var payload = JsonDocument.Parse("{}").RootElement;
        for (var round = 1; round <= rounds; round++)
        {
            var client = cluster.Directors[0].Client;
            var leader = await client.LeaderAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("no leader");
            var victim = cluster.Directors.Single(d => d.Process.Name == leader.DirectorId);
            var submitter = cluster.Directors.First(d => d != victim);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var submitErrors = 0;
            var feeding = Task.Run(async () =>
            {
                // Bounded by the round: the loop ends when the round cancels it.
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await submitter.Client.SubmitAsync(new JobSpec { Executor = "echo", Args = payload }, cancellationToken: stop.Token).ConfigureAwait(false);
                        // Not a retry: the submitter's pace (one submission every 20 ms).
                        await Task.Delay(20, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    catch (HttpRequestException)
                    {
                        // Submissions do not need the leader; an error here is a finding, counted, not fatal.
                        Interlocked.Increment(ref submitErrors);
                    }
                }
            }, CancellationToken.None);
            // Not a retry: lets the submissions run before the leader is killed.
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
            // When a survivor first names the successor, polled every 50 ms beside the job polling (an upper bound).
            var seen = WaitForSuccessorAsync(submitter.Client, leader.Epoch, killedAt, sessionTimeout * 6, cancellationToken);
            double? seconds = null;
            var deadline = Stopwatch.GetTimestamp() + (long)(sessionTimeout.TotalSeconds * 6 * Stopwatch.Frequency);
            while (seconds is null && Stopwatch.GetTimestamp() < deadline)
            {
                // Not a retry: the pace of the bounded poll for the successor's first assignment.
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                var jobs = await submitter.Client.AllJobsAsync(cancellationToken).ConfigureAwait(false);
                var first = jobs.Where(j => j.Epoch > leader.Epoch && j.AssignedAt is not null).Select(j => j.AssignedAt!.Value).DefaultIfEmpty().Min();
                if (first != default)
                {
                    seconds = (first - killedAt).TotalSeconds;
                }
            }

            var electedSeconds = await seen.ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await feeding.ConfigureAwait(false);
            BenchReport.Json(new
            {
                scenario = "failover", backend, round, mode = graceful ? "sigterm" : "kill9", sessionTimeoutSeconds = sessionTimeout.TotalSeconds,
                electedSeconds = electedSeconds is { } e ? Math.Round(e, 2) : (double?)null,
                seconds = seconds is { } s ? Math.Round(s, 2) : (double?)null,
                submitErrors, loadAverage = load,
            });
            measured += seconds is null ? 0 : 1;
            rows.Add([backend, graceful ? "SIGTERM" : "kill -9", $"{sessionTimeout.TotalSeconds:0} s", $"{round}",
                BenchReport.Cell(electedSeconds ?? double.NaN, "0.00"), BenchReport.Cell(seconds ?? double.NaN, "0.00"), $"{submitErrors}"]);

            // Bring the director back for the next round (its old ephemeral records may linger until its session expires).
            cluster.Directors.Remove(victim);
            if (round < rounds)
            {
                cluster.Directors.Add(await cluster.Apps.StartDirectorAsync(cluster.Target, victim.Process.Name, ["--Logging:LogLevel:Default=Warning"], cancellationToken).ConfigureAwait(false));
            }
        }

        BenchReport.Table(["backend", "mode", "session", "round", "elected s", "first assignment s", "submit errors"], rows);
        return measured == rounds ? 0 : 1;
    }

    /// <summary>Seconds from <paramref name="killedAt"/> until <paramref name="client"/>'s director names a leader with
    /// an epoch above <paramref name="epoch"/>; null if none within <paramref name="timeout"/>.</summary>
    private static async Task<double?> WaitForSuccessorAsync(
        TestSupport.ControlPlane.DirectorClient client, long epoch, DateTimeOffset killedAt, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (await client.LeaderAsync(cancellationToken).ConfigureAwait(false) is { } now && now.Epoch > epoch)
            {
                return (DateTimeOffset.UtcNow - killedAt).TotalSeconds;
            }

            // Not a retry: the pace of the bounded poll for a new leader.
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }
}
