using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

public sealed class ListCommandTests
{
    private static JobPage Page(string? cursor, params string[] ids) =>
        new([.. ids.Select(id => CliHarness.Job(id, JobState.Running, worker: "worker-1"))], cursor, 42);

    [Fact]
    public async Task Filters_become_query_parameters_and_the_state_is_case_insensitive()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Page(null, "a1")));

        var run = await cli.RunAsync("list", "--state", "running", "--group", "nightly build", "--limit", "20");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/v1/jobs?state=Running&group=nightly%20build&limit=20", Assert.Single(cli.Api.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Without_all_one_page_is_shown_and_stderr_names_the_next_cursor()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Page("c2", "a1", "a2")));

        var run = await cli.RunAsync("list");

        Assert.Single(cli.Api.Requests);
        Assert.Equal(3, run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("cpctl list --cursor c2", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task All_follows_cursors_to_the_last_page()
    {
        var cli = new CliHarness(r => r.PathAndQuery switch
        {
            "/v1/jobs" => FakeApi.Json(Page("c2", "a1")),
            "/v1/jobs?cursor=c2" => FakeApi.Json(Page("c3", "a2")),
            _ => FakeApi.Json(Page(null, "a3")),
        });

        var run = await cli.RunAsync("list", "--all", "-o", "json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["/v1/jobs", "/v1/jobs?cursor=c2", "/v1/jobs?cursor=c3"], cli.Api.Requests.Select(r => r.PathAndQuery));
        var page = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(["a1", "a2", "a3"], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(JsonValueKind.Null, page.GetProperty("cursor").ValueKind);
    }

    [Fact]
    public async Task All_stops_after_the_page_bound_even_when_the_server_keeps_giving_cursors()
    {
        var cli = new CliHarness(_ => FakeApi.Json(Page("again", "a1")));

        var run = await cli.RunAsync("list", "--all");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(ControlPlane.Cli.Commands.ListCommand.MaxPages, cli.Api.Requests.Count);
        Assert.Contains("--cursor again", run.Error, StringComparison.Ordinal);
    }
}
