using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>
/// <c>GET /v1/jobs/{id}/explain</c> with a real leader (a director with its runtime) and workers the test registers
/// and reports for, as agents would: each reason comes from a situation the test creates. The question is asked of a
/// director that does not lead, so the answer comes from the published queue status, not the leader's memory.
/// </summary>
public abstract partial class DirectorApiTests
{
    private static readonly Dictionary<string, string> ExplainSettings = new()
    {
        ["Scheduler:QueueStatusInterval"] = "00:00:00.1",
        ["Scheduler:StartTimeout"] = "00:05:00",
        ["Scheduler:RetryBackoff"] = "00:10:00",
        ["Scheduler:MaxRetryBackoff"] = "00:10:00",
    };

    [Fact]
    public async Task Explain_names_a_missing_label_and_then_full_workers_with_their_free_slots()
    {
        StartDirector(runtime: true, settings: ExplainSettings);
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-1", slots: 1);

        var gpu = await SubmitAsync(new { executor = "shell", command = new[] { "/bin/true" }, constraints = new Dictionary<string, string> { ["gpu"] = "1" } });
        var label = await WaitForExplanationAsync(gpu.Id, ExplainCodes.NoLabel);
        Assert.Contains("gpu=1 (missing on 1) of 1 worker with executor 'shell'", label.Summary, StringComparison.Ordinal);
        Assert.Equal(JobState.Pending, label.State);
        Assert.NotNull(label.JudgedAt);

        var first = await SubmitAsync();
        var assigned = await WaitForExplanationAsync(first.Id, ExplainCodes.Assigned);
        Assert.Equal("w-1", assigned.WorkerId);
        var second = await SubmitAsync();
        var full = await WaitForExplanationAsync(second.Id, ExplainCodes.Full);
        Assert.Contains("every capable worker is full: 1 worker, at most 0 free slots on any (it needs 1)", full.Summary, StringComparison.Ordinal);

        using var unknown = await Client.GetAsync($"/v1/jobs/{JobIds.New()}/explain");
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        using var malformed = await Client.GetAsync("/v1/jobs/not-an-id/explain");
        await AssertFieldErrorAsync(malformed, "id");
    }

    [Fact]
    public async Task Explain_names_the_job_a_fifo_group_waits_for()
    {
        StartDirector(runtime: true, settings: ExplainSettings);
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-1", slots: 4);

        var head = await SubmitAsync(ShellJob("first", group: "nightly"));
        await WaitForExplanationAsync(head.Id, ExplainCodes.Assigned);
        var behind = await SubmitAsync(ShellJob("second", group: "nightly"));

        var explained = await WaitForExplanationAsync(behind.Id, ExplainCodes.FifoGroup);
        Assert.Contains($"waits for its FIFO group 'nightly': behind job {head.Id}, Assigned on worker w-1", explained.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_gives_the_end_of_a_retry_backoff()
    {
        StartDirector(runtime: true, settings: ExplainSettings);
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-1", slots: 1);
        var job = await SubmitAsync(new { executor = "shell", command = new[] { "/bin/false" }, maxAttempts = 3 });
        await WaitForExplanationAsync(job.Id, ExplainCodes.Assigned);

        // The agent reports the attempt failed; the leader folds it in and sets the 10 min backoff.
        await ReportAsync(agent, "w-1", job.Id, 1, a => a with { State = AttemptState.Failed, ExitCode = 1, Error = "exited with code 1", FinishedAt = DateTimeOffset.UtcNow });

        var explained = await WaitForExplanationAsync(job.Id, ExplainCodes.Backoff);
        Assert.Equal(2, explained.Attempt);
        Assert.Contains("retry backoff: attempt 2 may start at", explained.Summary, StringComparison.Ordinal);
        Assert.Contains("the last attempt ended: exited with code 1", explained.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_shows_a_running_job_on_a_suspect_worker_and_a_waiting_job_that_worker_cannot_take()
    {
        StartDirector(runtime: true, settings: ExplainSettings);
        var agent = await ConnectStoreAsync();
        // Says it beats every second (feature workerHeartbeat) but never does: it and its running attempt go silent.
        await RegisterWorkerAsync(agent, "w-1", slots: 1, heartbeatSeconds: 1);
        var running = await SubmitAsync();
        await WaitForExplanationAsync(running.Id, ExplainCodes.Assigned);
        await ReportAsync(agent, "w-1", running.Id, 1, a => a with { State = AttemptState.Running, StartedAt = DateTimeOffset.UtcNow });

        JobExplanation? seen = null;
        await Eventually.UntilAsync(
            async () => (seen = await ExplainAsync(running.Id)).Reasons.Any(r => r.Code == ExplainCodes.WorkerSuspect),
            Deadline,
            () => $"{seen?.Summary} {string.Join(" | ", seen?.Reasons.Select(r => r.Code) ?? [])}");
        Assert.Equal(JobState.Running, seen!.State);
        Assert.StartsWith("running on worker w-1 since", seen.Summary, StringComparison.Ordinal);
        // It neither beats nor reports: whichever rule judges first names it (phi over its beats, or the silent attempt).
        Assert.Matches("suspect since .*: (no beat for .* s \\(phi|attempt .* has not reported for)", seen.Reasons.Single(r => r.Code == ExplainCodes.WorkerSuspect).Message);

        var waiting = await SubmitAsync();
        var notReady = await WaitForExplanationAsync(waiting.Id, ExplainCodes.NotReady);
        Assert.Contains("the 1 worker that could run it take no new work: 1 suspect", notReady.Summary, StringComparison.Ordinal);
    }

    private static async Task RegisterWorkerAsync(ICoordinationStore agent, string id, int slots, double heartbeatSeconds = 60, string version = "0.1.0")
    {
        var record = new WorkerRecord
        {
            Id = id, Host = "test", Slots = slots, Executors = ["shell"], Features = [.. Protocol.Features.Default],
            HeartbeatSeconds = heartbeatSeconds, StartedAt = DateTimeOffset.UtcNow, Version = version,
        };
        var result = await agent.CommitAsync(new Transaction().Create(StoreLayout.Worker(id), ContractJson.Serialize(record), ephemeral: true));
        Assert.True(result.Succeeded);
    }

    /// <summary>Rewrites an assignment as its agent reports, on the version it read.</summary>
    private static async Task ReportAsync(ICoordinationStore agent, string workerId, string jobId, int attempt, Func<AssignmentRecord, AssignmentRecord> report)
    {
        var key = StoreLayout.Assignment(workerId, jobId, attempt);
        var item = await agent.GetAsync(key);
        Assert.NotNull(item);
        var next = report(ContractJson.Deserialize<AssignmentRecord>(item.Value.Span));
        Assert.True((await agent.CommitAsync(new Transaction().Update(key, ContractJson.Serialize(next), item.Version))).Succeeded);
    }

    private async Task<JobExplanation> ExplainAsync(string jobId)
    {
        using var response = await Client.GetAsync($"/v1/jobs/{jobId}/explain");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadAsync<JobExplanation>(response);
    }

    private async Task<JobExplanation> WaitForExplanationAsync(string jobId, string code)
    {
        JobExplanation? last = null;
        await Eventually.UntilAsync(async () => (last = await ExplainAsync(jobId)).Reasons[0].Code == code, Deadline, () => $"{last?.Reasons[0].Code}: {last?.Summary}");
        return last!;
    }
}
