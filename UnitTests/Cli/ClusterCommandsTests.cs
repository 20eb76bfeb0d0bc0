using System.Net;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.UnitTests.Cli;

public sealed class ClusterCommandsTests
{
    [Fact]
    public async Task Cancel_sends_delete_on_the_escaped_job_path()
    {
        var cli = new CliHarness(_ => new HttpResponseMessage(HttpStatusCode.Accepted));

        var run = await cli.RunAsync("cancel", "a/b");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal((HttpMethod.Delete, "/v1/jobs/a%2Fb"), (request.Method, request.PathAndQuery));
        Assert.Equal("cancellation requested: a/b" + Environment.NewLine, run.Out);
    }

    [Fact]
    public async Task Drain_posts_to_the_worker_drain_path()
    {
        var cli = new CliHarness(_ => new HttpResponseMessage(HttpStatusCode.Accepted));

        var run = await cli.RunAsync("drain", "worker-1");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/workers/worker-1/drain"), (request.Method, request.PathAndQuery));
    }

    [Fact]
    public async Task Workers_table_shows_state_used_slots_executors_and_labels()
    {
        WorkerView[] workers =
        [
            new()
            {
                Id = "w2", Host = "h2", State = "draining", Slots = 4, SlotsUsed = 3, Version = "0.1.0",
                Capabilities = new(["shell", "resize"], ["env"]), Labels = new Dictionary<string, string> { ["zone"] = "eu", ["gpu"] = "1" },
                StartedAt = CliHarness.Start.AddHours(-3),
            },
            new() { Id = "w1", Cell = "eu-1", Host = "h1", Slots = 2, Version = "0.1.0", Capabilities = new(["shell"], []), StartedAt = CliHarness.Start.AddSeconds(-7) },
        ];
        var cli = new CliHarness(_ => FakeApi.Json(new WorkerPage(workers, null, 9)));

        var run = await cli.RunAsync("workers");

        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("/v1/workers", Assert.Single(cli.Api.Requests).PathAndQuery);
        Assert.Equal(["w1", "eu-1", "ready", "-/2", "shell", "-", "0.1.0", "h1", "7s"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["w2", "default", "draining", "3/4", "shell,resize", "gpu=1,zone=eu", "0.1.0", "h2", "3h"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Cells_prints_each_cells_leader_epoch_workers_and_pending_and_leader_takes_a_cell()
    {
        IReadOnlyList<CellView> cells = [new("default", "d1", "http://d1", 41, 3, 7), new("eu-1", null, null, null, 1, null)];
        var cli = new CliHarness(request => request.PathAndQuery.StartsWith("/v1/leader", StringComparison.Ordinal)
            ? FakeApi.Json(new LeaderView("d2", "http://d2", 44, CliHarness.Start))
            : FakeApi.Json(cells));

        var run = await cli.RunAsync("cells");
        var leader = await cli.RunAsync("leader", "--cell", "eu-1");

        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["CELL", "LEADER", "EPOCH", "WORKERS", "PENDING"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["default", "d1", "41", "3", "7"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["eu-1", "none", "-", "1", "-"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["/v1/cells", "/v1/leader?cell=eu-1"], cli.Api.Requests.Select(r => r.PathAndQuery));
        Assert.Contains("d2", leader.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workers_follows_cursors_to_the_end_and_with_limit_shows_one_page_and_names_the_next_cursor()
    {
        static WorkerView Worker(string id) => new() { Id = id, Host = "h", Slots = 1, SlotsUsed = 0, Version = "v", Capabilities = new([], []), StartedAt = CliHarness.Start };
        var cli = new CliHarness(request => FakeApi.Json(request.PathAndQuery.Contains("cursor=c2", StringComparison.Ordinal)
            ? new WorkerPage([Worker("w3")], null, 9)
            : new WorkerPage([Worker("w1"), Worker("w2")], "c2", 9)));

        var all = await cli.RunAsync("workers");
        var one = await cli.RunAsync("workers", "--limit", "2");

        Assert.Equal(["/v1/workers", "/v1/workers?cursor=c2", "/v1/workers?limit=2"], cli.Api.Requests.Select(r => r.PathAndQuery));
        Assert.Equal(4, all.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(3, one.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("cpctl workers --cursor c2", one.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leader_prints_id_url_and_epoch_and_no_leader_is_an_error()
    {
        var leader = new CliHarness(_ => FakeApi.Json(new LeaderView("d1", "http://d1:8080", 12, CliHarness.Start.AddMinutes(-2))));
        var none = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.ServiceUnavailable, "No leader", "An election is in progress."));

        var elected = await leader.RunAsync("leader");
        var election = await none.RunAsync("leader");

        Assert.Equal(0, elected.ExitCode);
        Assert.Equal(
            string.Join(Environment.NewLine, "leader:   d1", "url:      http://d1:8080", "epoch:    12", "since:    2m ago", ""),
            elected.Out);
        Assert.Equal(1, election.ExitCode);
        Assert.Contains("No leader (503)", election.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_marks_the_leader_among_the_directors()
    {
        var view = new ClusterView(
            [new DirectorRecord { Id = "d2", Url = "http://d2:8080", Version = "0.1.0", StartedAt = CliHarness.Start.AddMinutes(-9) },
             new DirectorRecord { Id = "d1", Url = "http://d1:8080", Version = "0.1.0", StartedAt = CliHarness.Start.AddMinutes(-10) }],
            new LeaderView("d1", "http://d1:8080", 12, CliHarness.Start),
            new StoreView("zookeeper", ["zk1:2181", "zk2:2181"], "controlplane", 345, "Connected", 10));
        var cli = new CliHarness(_ => FakeApi.Json(view));

        var run = await cli.RunAsync("cluster");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("store:    zookeeper zk1:2181,zk2:2181 root=controlplane revision=345", run.Out, StringComparison.Ordinal);
        Assert.Contains("leader:   d1 (epoch 12)", run.Out, StringComparison.Ordinal);
        var rows = run.Out.Split(Environment.NewLine).SkipWhile(l => !l.StartsWith("DIRECTOR", StringComparison.Ordinal)).Skip(1)
            .Where(l => l.Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2]).ToList();
        Assert.Equal([["d1", "leader"], ["d2", "follower"]], rows);
    }
}
