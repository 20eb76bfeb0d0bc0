using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// Cells (docs/cells.md) with real processes on a one-member store: three directors and three cells (default, a, b),
/// one agent in each. Every cell has one leader, leadership spreads, jobs run in their cell, every assignment carries
/// its own cell's epoch, and a kill -9 of a director moves only its cells. One subclass per backend.
/// </summary>
public abstract class CellsTests(ITestOutputHelper output) : StoreSystemTests(output, "e2e-cells")
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly string[] CellNames = [Cells.Default, "a", "b"];

    [Fact]
    public async Task Three_directors_spread_three_cells_jobs_run_in_their_cell_fenced_by_its_epoch_and_a_kill_moves_only_its_cells()
    {
        var target = Backend.Target(Servers, "e2e-cells");
        // Agents first: each registers its cell, so the directors campaign in all three from their first round.
        foreach (var cell in CellNames)
        {
            await Apps.StartAgentAsync(target, $"agent-{cell}", slots: 4, [$"--Agent:Cell={cell}", $"--Agent:Labels:zone={cell}"]);
        }

        string[] fast = ["--Director:CellDiscoveryInterval=00:00:00.500", "--Director:SpreadInterval=00:00:01"];
        var directors = (await Task.WhenAll(Enumerable.Range(1, 3).Select(i => Apps.StartDirectorAsync(target, $"director-{i}", fast)))).ToList();
        var api = directors[0].Client;

        // Every cell has one leader, each director leads one cell, and each director's own count of the cells it leads agrees.
        var spread = await Eventually.UntilAsync(
            () => CellsAsync(api),
            cells => cells.Count == 3 && cells.All(c => c.Leader is not null && c.Workers == 1) && cells.Select(c => c.Leader).Distinct().Count() == 3,
            Deadline);
        Output.WriteLine("spread: " + string.Join(", ", spread.Select(c => $"{c.Cell}={c.Leader}@{c.Epoch}")));
        await Eventually.UntilAsync(async () => (await LeaderGaugesAsync(directors)).All(g => g == 1), Deadline);
        var epochs = spread.ToDictionary(c => c.Cell, c => c.Epoch!.Value);
        Assert.Equal(3, epochs.Values.Distinct().Count());

        // Jobs named to a cell, and jobs routed by their constraints, run on that cell's agent, each stamped with its
        // cell's epoch; long ones hold their assignments so the records can be read.
        var ran = new List<(string Cell, JobView Job)>();
        var held = new List<(string Cell, JobView Job)>();
        foreach (var cell in CellNames)
        {
            ran.Add((cell, await api.SubmitAsync(Shell("true") with { Cell = cell })));
            ran.Add((cell, await api.SubmitAsync(Shell("true") with { Constraints = new Dictionary<string, string> { ["zone"] = cell } })));
            held.Add((cell, await api.SubmitAsync(Shell("sleep 60") with { Cell = cell })));
        }

        Assert.All(ran.Concat(held), r => Assert.Equal(r.Cell, r.Job.Cell));
        foreach (var (cell, job) in ran)
        {
            var done = await directors[2].Client.WaitForTerminalAsync(job.Id, Deadline);
            Assert.Equal(JobState.Succeeded, done.State);
            Assert.Equal($"agent-{cell}", done.WorkerId);
            Assert.Equal(cell, done.Cell);
            Assert.Equal(epochs[cell], done.Epoch);
        }

        await using var store = await new StoreOptions { Backend = target.Backend, Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = TimeSpan.FromSeconds(10) }.ConnectAsync();
        foreach (var (cell, job) in held)
        {
            var running = await Eventually.UntilAsync(() => directors[1].Client.GetJobAsync(job.Id), j => j?.State == JobState.Running, Deadline);
            var view = store.ForCell(cell);
            var assignment = await view.GetAsync(StoreLayout.Assignment($"agent-{cell}", job.Id, running!.Attempt));
            Assert.NotNull(assignment);
            Assert.Equal(epochs[cell], ContractJson.Deserialize<AssignmentRecord>(assignment.Value.Span).Epoch);
            // The epoch is this cell's own candidate key's creation revision, which no other cell's election holds.
            var candidates = await view.ListAsync(StoreLayout.Election);
            Assert.Contains(candidates.Items, c => c.CreateRevision == epochs[cell]);
        }

        // No cell's leader wrote into another cell: each cell's assignments are its own agent's only, stamped with its epoch.
        foreach (var cell in CellNames)
        {
            var view = store.ForCell(cell);
            foreach (var worker in CellNames)
            {
                var items = (await view.ListAsync(StoreLayout.WorkerAssignments($"agent-{worker}"))).Items;
                Assert.True(worker == cell || items.Count == 0, $"cell {cell} holds assignments of agent-{worker}");
                Assert.All(items, i => Assert.Equal(epochs[cell], ContractJson.Deserialize<AssignmentRecord>(i.Value.Span).Epoch));
            }
        }

        // Kill -9 the director that leads cell a: only cell a moves; the other two keep their leader and epoch.
        var doomed = directors.Single(d => d.Process.Name == spread.Single(c => c.Cell == "a").Leader);
        await doomed.Process.KillAsync();
        directors.Remove(doomed);
        Output.WriteLine($"killed {doomed.Process.Name} at {doomed.Process.KilledAt:O}");
        var after = await Eventually.UntilAsync(
            () => CellsAsync(directors[0].Client),
            cells => cells.Count == 3 && cells.All(c => c.Leader is not null && c.Leader != doomed.Process.Name),
            Deadline);
        foreach (var cell in after.Where(c => c.Cell != "a"))
        {
            Assert.Equal((spread.Single(c => c.Cell == cell.Cell).Leader, epochs[cell.Cell]), (cell.Leader, cell.Epoch!.Value));
        }

        var moved = after.Single(c => c.Cell == "a");
        Assert.True(moved.Epoch > epochs["a"], $"cell a's epoch {moved.Epoch} after the kill is not above {epochs["a"]}");

        // The cell's new leader schedules it: a job named to it runs on its agent with the new epoch.
        var again = await directors[0].Client.SubmitAsync(Shell("true") with { Cell = "a" });
        var finished = await directors[1].Client.WaitForTerminalAsync(again.Id, Deadline);
        Assert.Equal(JobState.Succeeded, finished.State);
        Assert.Equal("agent-a", finished.WorkerId);
        Assert.Equal(moved.Epoch, finished.Epoch);
        // The two survivors lead the three cells between them (2 and 1: within the share of ⌈3/2⌉, so nothing else moves).
        await Eventually.UntilAsync(() => LeaderGaugesAsync(directors), g => g.Sum() == 3 && g.All(n => n is 1 or 2), Deadline);
    }

    [Fact]
    public async Task A_store_written_before_cells_keeps_its_jobs_and_layout_with_this_build()
    {
        var target = Backend.Target(Servers, "upgrade");
        await using var store = await new StoreOptions { Backend = target.Backend, Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = TimeSpan.FromSeconds(10) }.ConnectAsync();
        // A root as an earlier build left it: its schema record and a Pending job with an idempotency record, no cell anywhere.
        var id = JobIds.New();
        var job = new JobRecord { Id = id, Spec = Shell("true"), State = JobState.Pending, CreatedAt = DateTimeOffset.UtcNow };
        var keyHash = IdempotencyKeys.Hash("before-cells");
        var written = await store.CommitAsync(new Transaction()
            .Create(StoreLayout.Schema, ContractJson.Serialize(new SchemaRecord(Protocol.LayoutVersion)))
            .Create(StoreLayout.Job(id), ContractJson.Serialize(job))
            .Create(StoreLayout.IdempotencyRecord(keyHash), ContractJson.Serialize(new IdempotencyRecord { Key = "before-cells", JobId = id, SpecHash = "x" })));
        Assert.True(written.Succeeded);

        var director = await Apps.StartDirectorAsync(target, "director-1");
        await Apps.StartAgentAsync(target, "agent-1");
        var done = await director.Client.WaitForTerminalAsync(id, Deadline);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal("agent-1", done.WorkerId);
        Assert.Equal(Cells.Default, done.Cell);
        var cells = await CellsAsync(director.Client);
        Assert.Equal(Cells.Default, Assert.Single(cells).Cell);

        // The layout is the one it was: nothing was written under cells/ or meta/cells.
        Assert.Empty((await store.ListAsync(StoreLayout.CellRegistry)).Items);
        Assert.Empty((await store.ListAsync(Cells.Parent)).Items);
        Assert.Null(await store.GetAsync(Cells.Key("a", StoreLayout.Election)));

        // A named cell that does not exist is refused, naming the field.
        using var refused = await director.Client.Http.PostAsync(
            new Uri("/v1/jobs", UriKind.Relative), new ByteArrayContent(ContractJson.Serialize(Shell("true") with { Cell = "nowhere" })) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("\"cell\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cell_pinned_to_other_director_versions_is_never_led_by_them_and_waits_saying_why()
    {
        var target = Backend.Target(Servers, "e2e-pins");
        await Apps.StartAgentAsync(target, "agent-default");
        await Apps.StartAgentAsync(target, "agent-canary", slots: 4, ["--Agent:Cell=canary"]);
        string[] fast = ["--Director:CellDiscoveryInterval=00:00:00.300", "--Director:SpreadInterval=00:10:00"];
        var old = await Apps.StartDirectorAsync(target, "director-old", [.. fast, "--Director:Version=1.0.0"]);
        await Eventually.UntilAsync(() => CellsAsync(old.Client), cells => cells.Count == 2 && cells.All(c => c.Leader == "director-old"), Deadline);
        var cli = new Dictionary<string, string> { ["CONTROLPLANE_URL"] = old.Url.ToString(), ["CONTROLPLANE_TOKEN"] = Apps.Token };

        // Pinning the canary cell to 2.* makes the 1.0.0 director leave it: the cell waits and says why.
        var pinned = await ControlPlaneApps.RunCliAsync(["cell", "pin", "canary", "2.*"], cli);
        Assert.True(pinned.ExitCode == 0, pinned.ToString());
        Assert.Contains("2.*", pinned.Out, StringComparison.Ordinal);
        var waiting = await Eventually.UntilAsync(
            () => CellsAsync(old.Client), cells => cells.Single(c => c.Cell == "canary") is { Leader: null, Waiting: not null }, Deadline);
        var canary = waiting.Single(c => c.Cell == "canary");
        Assert.Equal(["2.*"], canary.AllowedVersions);
        Assert.Contains("2.*", canary.Waiting, StringComparison.Ordinal);
        Assert.Contains("1.0.0 (director-old)", canary.Waiting, StringComparison.Ordinal);
        await using var store = await new StoreOptions { Backend = target.Backend, Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = TimeSpan.FromSeconds(10) }.ConnectAsync();
        Assert.Empty(await CandidateIdsAsync(store, "canary"));
        var job = await old.Client.SubmitAsync(Shell("true") with { Cell = "canary" });

        // The new build leads the canary cell only: the default cell is pinned to 1.*, and its job runs now.
        var pinDefault = await ControlPlaneApps.RunCliAsync(["cell", "pin", "default", "1.*"], cli);
        Assert.True(pinDefault.ExitCode == 0, pinDefault.ToString());
        var fresh = await Apps.StartDirectorAsync(target, "director-new", [.. fast, "--Director:Version=2.0.0"]);
        var led = await Eventually.UntilAsync(
            () => CellsAsync(fresh.Client), cells => cells.Single(c => c.Cell == "canary").Leader == "director-new" && cells.Single(c => c.Cell == Cells.Default).Leader == "director-old", Deadline);
        var done = await old.Client.WaitForTerminalAsync(job.Id, Deadline);
        Assert.Equal((JobState.Succeeded, "agent-canary", led.Single(c => c.Cell == "canary").Epoch), (done.State, done.WorkerId, done.Epoch));
        Assert.Equal(["director-old"], await CandidateIdsAsync(store, Cells.Default));

        // Kill -9 the only 2.0.0 director: the 1.0.0 one is the only one left and still never campaigns in the canary cell.
        await fresh.Process.KillAsync();
        await Eventually.UntilAsync(
            () => CellsAsync(old.Client), cells => cells.Single(c => c.Cell == "canary") is { Leader: null } cell && cell.Waiting!.Contains("1.0.0 (director-old)", StringComparison.Ordinal) && !cell.Waiting.Contains("director-new", StringComparison.Ordinal), Deadline);
        Assert.Empty(await CandidateIdsAsync(store, "canary"));
        var listed = await ControlPlaneApps.RunCliAsync(["cell", "list"], cli);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("canary: No live director runs a version its policy allows (2.*)", listed.Out, StringComparison.Ordinal);
        using (var doctor = await old.Client.Http.GetAsync(new Uri("/v1/doctor", UriKind.Relative)))
        {
            var cellsCheck = ContractJson.Deserialize<DoctorReport>(await doctor.Content.ReadAsByteArrayAsync()).Checks.Single(c => c.Name == "cells");
            Assert.Equal(CheckStatus.Fail, cellsCheck.Status);
            Assert.Contains("cell canary has no leader: No live director runs a version its policy allows (2.*)", cellsCheck.Summary, StringComparison.Ordinal);
        }

        // It led the canary cell once, before the pin, and never since.
        Assert.Equal(1, CountLines(old.Process, "Leading cell canary"));

        // Unpinned, it leads the canary cell again; a malformed pattern is refused with the reason.
        var unpinned = await ControlPlaneApps.RunCliAsync(["cell", "unpin", "canary"], cli);
        Assert.True(unpinned.ExitCode == 0, unpinned.ToString());
        await Eventually.UntilAsync(() => CellsAsync(old.Client), cells => cells.Single(c => c.Cell == "canary") is { Leader: "director-old", AllowedVersions: null, Waiting: null }, Deadline);
        var refused = await ControlPlaneApps.RunCliAsync(["cell", "pin", "canary", "2.*.1"], cli);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("'*' may only end a pattern", refused.ToString(), StringComparison.Ordinal);
        var unknown = await ControlPlaneApps.RunCliAsync(["cell", "pin", "nowhere", "2.*"], cli);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("No cell 'nowhere'", unknown.ToString(), StringComparison.Ordinal);
    }

    private static JobSpec Shell(string script) => new() { Executor = "shell", Command = ["/bin/sh", "-c", script] };

    private static async Task<Seen<CellView>> CellsAsync(DirectorClient client)
    {
        using var response = await client.Http.GetAsync(new Uri("/v1/cells", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return new(ContractJson.Deserialize<List<CellView>>(await response.Content.ReadAsByteArrayAsync()));
    }

    /// <summary>The director ids of <paramref name="cell"/>'s election candidates, oldest first.</summary>
    private static async Task<Seen<string>> CandidateIdsAsync(ICoordinationStore store, string cell) =>
        new((await store.ForCell(cell).ListAsync(StoreLayout.Election)).Items.OrderBy(i => i.CreateRevision).Select(i => ContractJson.Deserialize<DirectorRecord>(i.Value.Span).Id));

    private static int CountLines(AppProcess process, string text) =>
        process.LogTail(int.MaxValue).Split('\n').Count(line => line.Contains(text, StringComparison.Ordinal));

    private static async Task<Seen<int>> LeaderGaugesAsync(IEnumerable<DirectorProcess> directors)
    {
        var gauges = new List<int>();
        foreach (var director in directors)
        {
            var metrics = MetricsScrape.Parse(await director.Client.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            gauges.Add((int)(metrics.Value("controlplane_scheduler_leader") ?? -1));
        }

        return new(gauges);
    }

    /// <summary>What a poll read, shown item by item when a wait times out.</summary>
    private sealed class Seen<T>(IEnumerable<T> items) : List<T>(items)
    {
        public override string ToString() => "[" + string.Join("; ", this) + "]";
    }
}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperCellsTests(ITestOutputHelper output) : CellsTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdCellsTests(ITestOutputHelper output) : CellsTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
