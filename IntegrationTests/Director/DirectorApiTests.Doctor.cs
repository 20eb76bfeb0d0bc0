using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary><c>GET /v1/doctor</c> on the shared store: a healthy cluster, and records the test breaks by hand.</summary>
public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task Doctor_is_OK_on_a_healthy_cluster()
    {
        StartDirector(runtime: true, settings: ExplainSettings);
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-1", slots: 2);
        var job = await SubmitAsync();
        await WaitForExplanationAsync(job.Id, ExplainCodes.Assigned);

        DoctorReport? report = null;
        await Eventually.UntilAsync(
            async () => (report = await DoctorAsync()).Status == CheckStatus.Ok,
            Deadline,
            () => string.Join(Environment.NewLine, report?.Checks.Select(c => $"{c.Name} {c.Status}: {c.Summary}") ?? []));
        Assert.Equal(["leader", "cells", "store", "timing", "versions", "workers", "assignments", "assigned-jobs", "pending", "retention"], report!.Checks.Select(c => c.Name));
        Assert.All(report.Checks, c => Assert.Null(c.Action));
        Assert.StartsWith("exactly one leader:", Check(report, "leader").Summary, StringComparison.Ordinal);
        Assert.Equal("one cell (default)", Check(report, "cells").Summary);
        Assert.Contains("1 assignment in flight", Check(report, "assignments").Summary, StringComparison.Ordinal);
        Assert.Contains("every director and agent runs 0.1.0", Check(report, "versions").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_fails_for_an_orphaned_assignment_and_for_a_job_assigned_without_its_assignment()
    {
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-1", slots: 2);
        // No leader runs here, so the store keeps what the test writes as a broken leader or a hand edit would leave it.
        var orphan = new AssignmentRecord { JobId = JobIds.New(), Attempt = 1, WorkerSession = agent.Session.Id, State = AttemptState.Running };
        var orphanKey = StoreLayout.Assignment("w-1", orphan.JobId, 1);
        Assert.True((await agent.CommitAsync(new Transaction().Create(orphanKey, ContractJson.Serialize(orphan)))).Succeeded);
        var assigned = await WriteJobAsync(agent, JobState.Assigned, "w-1");

        var report = await DoctorAsync();

        Assert.Equal(CheckStatus.Fail, report.Status);
        var orphans = Check(report, "assignments");
        Assert.Equal(CheckStatus.Fail, orphans.Status);
        Assert.Contains($"{orphanKey}: its job {orphan.JobId} does not exist", Assert.Single(orphans.Details!), StringComparison.Ordinal);
        Assert.NotNull(orphans.Action);
        var missing = Check(report, "assigned-jobs");
        Assert.Equal(CheckStatus.Fail, missing.Status);
        Assert.Contains($"job {assigned.Id} is Assigned on worker w-1 (attempt 1)", Assert.Single(missing.Details!), StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Fail, Check(report, "leader").Status);
    }

    [Fact]
    public async Task Doctor_warns_about_version_skew_among_agents_and_directors()
    {
        var agent = await ConnectStoreAsync();
        await RegisterWorkerAsync(agent, "w-new", slots: 1);
        await RegisterWorkerAsync(agent, "w-old", slots: 1, version: "0.0.9");

        var versions = Check(await DoctorAsync(), "versions");

        Assert.Equal(CheckStatus.Warn, versions.Status);
        Assert.Contains("2 versions", versions.Summary, StringComparison.Ordinal);
        Assert.Contains(versions.Details!, d => d.StartsWith("0.0.9: agent w-old", StringComparison.Ordinal));
        Assert.NotNull(versions.Action);
    }

    private async Task<DoctorReport> DoctorAsync()
    {
        using var response = await Client.GetAsync("/v1/doctor");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadAsync<DoctorReport>(response);
    }

    private static DoctorCheck Check(DoctorReport report, string name) => Assert.Single(report.Checks, c => c.Name == name);
}
