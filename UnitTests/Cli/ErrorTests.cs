using System.Net;

namespace ControlPlane.UnitTests.Cli;

public sealed class ErrorTests
{
    [Fact]
    public async Task A_validation_problem_prints_title_and_each_field_error_and_exits_one()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(
            HttpStatusCode.BadRequest,
            "The job spec is invalid.",
            "2 fields are invalid.",
            "{\"command\":[\"A shell job needs an argv.\"],\"slots\":[\"At most 1024.\",\"Must be positive.\"]}"));

        var run = await cli.RunAsync("submit", "shell");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            string.Join(Environment.NewLine, "error: The job spec is invalid. (400)", "  2 fields are invalid.", "  command: A shell job needs an argv.", "  slots: At most 1024.", "  slots: Must be positive.", ""),
            run.Error);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task A_refusal_of_unknown_fields_prints_the_detail_and_names_each_field()
    {
        // A director older than this cpctl refuses a field it does not know yet, rather than ignore it.
        var cli = new CliHarness(_ => FakeApi.Problem(
            HttpStatusCode.BadRequest,
            "The request is invalid.",
            "The body has 1 field(s) this director does not know: priorityClass. Nothing was done.",
            "{\"priorityClass\":[\"Unknown field: the director refuses fields it does not know rather than ignore them. Known here: name, executor.\"]}"));

        var run = await cli.RunAsync("submit", "shell", "--", "/bin/true");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(
            string.Join(
                Environment.NewLine,
                "error: The request is invalid. (400)",
                "  The body has 1 field(s) this director does not know: priorityClass. Nothing was done.",
                "  priorityClass: Unknown field: the director refuses fields it does not know rather than ignore them. Known here: name, executor.",
                ""),
            run.Error);
    }

    [Fact]
    public async Task Unauthorized_adds_a_hint_about_the_token()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.Unauthorized, "Unauthorized"));

        var run = await cli.RunAsync("workers");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("hint: pass --token or set CONTROLPLANE_TOKEN", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_a_problem_prints_the_status_line()
    {
        var cli = new CliHarness(_ => FakeApi.Raw("<html>bad gateway</html>", HttpStatusCode.BadGateway, "text/html"));

        var run = await cli.RunAsync("cluster");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: HTTP 502 Bad Gateway" + Environment.NewLine, run.Error);
    }

    [Fact]
    public async Task A_director_that_cannot_be_reached_exits_four()
    {
        var cli = new CliHarness(_ => throw new HttpRequestException("Connection refused (127.0.0.1:5080)"));

        var run = await cli.RunAsync("leader");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("cannot reach the director at http://127.0.0.1:5080/", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("get")]
    [InlineData("list", "--output", "yaml")]
    [InlineData("wait")]
    public async Task A_wrong_command_line_exits_two_without_a_request(params string[] args)
    {
        var cli = new CliHarness(_ => throw new InvalidOperationException("no request expected"));

        var run = await cli.RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
        Assert.Empty(cli.Api.Requests);
    }

    [Fact]
    public async Task A_url_that_is_not_http_is_a_usage_error()
    {
        var cli = new CliHarness(_ => throw new InvalidOperationException("no request expected"));

        var run = await cli.RunAsync("cluster", "--url", "ftp://example");

        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public async Task Cancelling_a_finished_job_reports_the_conflict()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.Conflict, "Job already finished", "The job Succeeded."));

        var run = await cli.RunAsync("cancel", "abc");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: Job already finished (409){Environment.NewLine}  The job Succeeded.{Environment.NewLine}", run.Error);
    }
}
