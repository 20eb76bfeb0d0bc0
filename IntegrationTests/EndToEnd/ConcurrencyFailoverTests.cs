using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// A concurrency limit across real failures (issue 19): three director processes and two agents (6 slots each, so
/// slots never limit the key) on a three-member store; 30 jobs of one key with limit 3, each running about 0.4 s,
/// and the leader killed (-9) twice while they run. The agents' execution logs must never show 4 of them running at
/// once, and every job must succeed exactly once. One subclass per backend.
/// </summary>
public abstract class ConcurrencyFailoverTests : ProcessFailoverTests
{
    private const int Jobs = 30;
    private const int Limit = 3;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    protected ConcurrencyFailoverTests(ITestOutputHelper output)
        : base(output, "e2e-keys")
    {
    }

    [Fact]
    public async Task A_key_with_limit_3_never_runs_4_at_once_through_two_leader_kills_and_every_job_runs_once()
    {
        var (_, directors) = await StartAsync("keys");
        var alive = directors.ToList();
        var key = $"api-{Guid.NewGuid():N}";
        var spec = new JobSpec
        {
            Executor = "shell",
            Command = ["/bin/sh", "-c", "sleep 0.4"],
            Concurrency = new JobConcurrency { Key = key, Limit = Limit },
        };
        var jobs = new List<JobView>();
        for (var i = 0; i < Jobs; i++)
        {
            jobs.Add(await alive[0].Client.SubmitAsync(spec, $"{key}-{i}"));
        }

        // While the key is full, the last job says why it waits, on any director.
        var last = jobs[^1].Id;
        await Eventually.UntilAsync(async () => await ExplainCodeAsync(alive[^1], last) == ExplainCodes.ConcurrencyLimit, TimeSpan.FromSeconds(30));

        // Kill the leader twice while the jobs run: after a fifth of them ended, then after half.
        var ids = jobs.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var ended in new[] { Jobs / 5, Jobs / 2 })
        {
            await Eventually.UntilAsync(() => Ends(ids) >= ended, Deadline, () => $"{Ends(ids)} ended");
            await KillLeaderAsync(alive, Deadline);
        }

        var final = await Task.WhenAll(jobs.Select(j => alive[0].Client.WaitForTerminalAsync(j.Id, Deadline)));

        Assert.All(final, j => Assert.True(j.State == JobState.Succeeded, $"job {j.Id} ended {j.State}: {j.Error}"));
        var events = ExecutionLog.Read(Apps.ExecutionLogs).Where(e => ids.Contains(e.JobId)).ToList();
        Assert.Empty(ExecutionLog.Overlaps(events));
        var runs = ExecutionLog.Intervals(events);
        Assert.All(runs.GroupBy(r => r.Start.JobId), g => Assert.Single(g)); // exactly once: no agent died, no attempt was lost
        Assert.Equal(Jobs, runs.Count);
        var (most, when) = MostAtOnce(runs);
        Output.WriteLine($"{Jobs} jobs of key {key} (limit {Limit}): at most {most} running at once (first at {when:O}), {ExecutionLog.Intervals(events).Count} runs");
        Assert.True(most <= Limit, $"{most} jobs of the key ran at once at {when:O}");
        Assert.Equal(Limit, most); // not vacuous: the limit was reached
    }

    /// <summary>The most intervals open at one instant (an end and a start at the same instant do not overlap).</summary>
    private static (int Most, DateTimeOffset When) MostAtOnce(IReadOnlyList<(ExecutionEvent Start, DateTimeOffset End)> runs)
    {
        var edges = runs.SelectMany(r => new[] { (At: r.Start.Time, Delta: 1), (At: r.End, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta)
            .ToList();
        var (open, most, when) = (0, 0, DateTimeOffset.MinValue);
        foreach (var (at, delta) in edges)
        {
            open += delta;
            if (open > most)
            {
                (most, when) = (open, at);
            }
        }

        return (most, when);
    }

    private int Ends(HashSet<string> ids) => ExecutionLog.Read(Apps.ExecutionLogs).Count(e => e.Event == "end" && ids.Contains(e.JobId));

    private static async Task<string?> ExplainCodeAsync(DirectorProcess director, string jobId)
    {
        using var response = await director.Client.Http.GetAsync(new Uri($"/v1/jobs/{jobId}/explain", UriKind.Relative));
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var explanation = ContractJson.Deserialize<JobExplanation>(await response.Content.ReadAsByteArrayAsync());
        return explanation.Reasons.Count > 0 ? explanation.Reasons[0].Code : null;
    }

}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperConcurrencyFailoverTests(ITestOutputHelper output) : ConcurrencyFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdConcurrencyFailoverTests(ITestOutputHelper output) : ConcurrencyFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
