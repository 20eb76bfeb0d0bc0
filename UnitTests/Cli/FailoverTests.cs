using System.Net;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

/// <summary>Several directors in <c>--url</c>: the ordered walk, and the rule that never sends an unkeyed submission twice.</summary>
public sealed class FailoverTests
{
    private const string Id = "0193a1b2c3d4e5f60718293a4b5c6d7e";
    private const string Urls = "http://d1:5080, http://d2:5080,http://d3:5080";

    [Fact]
    public async Task A_director_that_refuses_connections_is_skipped_even_for_an_unkeyed_submission_and_verbose_names_who_answered()
    {
        var cli = Directors(d1: Refused, d2: Created, d3: Created);

        var run = await cli.RunAsync("submit", "shell", "-q", "--url", Urls, "-v", "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Id + Environment.NewLine, run.Out);
        Assert.Equal(["d1", "d2"], cli.Api.Requests.Select(r => r.Uri.Host));
        Assert.Contains("POST /v1/jobs: http://d1:5080/ failed (Connection refused (d1:5080)); trying http://d2:5080/", run.Error, StringComparison.Ordinal);
        Assert.Contains("POST /v1/jobs answered by http://d2:5080/ (201 Created)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_verbose_a_failover_prints_nothing()
    {
        var cli = Directors(d1: Refused, d2: Created, d3: Created);

        var run = await cli.RunAsync("submit", "shell", "-q", "--url", Urls, "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Error);
    }

    [Theory]
    [InlineData("broken")]
    [InlineData("timeout")]
    [InlineData("503")]
    public async Task An_unkeyed_submission_is_not_sent_to_another_director_once_one_may_have_received_it(string failure)
    {
        var cli = Directors(d1: FailureOf(failure), d2: Created, d3: Created);

        var run = await cli.RunAsync("submit", "shell", "--url", Urls, "--", "/bin/true");

        Assert.Equal(failure == "503" ? 1 : 4, run.ExitCode);
        Assert.Equal(["d1"], cli.Api.Requests.Select(r => r.Uri.Host));
        if (failure != "503")
        {
            Assert.Contains("may have received the submission", run.Error, StringComparison.Ordinal);
            Assert.Contains("-k/--idempotency-key", run.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("broken")]
    [InlineData("timeout")]
    [InlineData("503")]
    public async Task A_keyed_submission_goes_to_the_next_director_with_the_same_key(string failure)
    {
        var cli = Directors(d1: FailureOf(failure), d2: Created, d3: Created);

        var run = await cli.RunAsync("submit", "shell", "-k", "order-17", "--url", Urls, "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["d1", "d2"], cli.Api.Requests.Select(r => r.Uri.Host));
        Assert.All(cli.Api.Requests, r => Assert.Equal("order-17", r.Headers["Idempotency-Key"]));
        Assert.Equal(cli.Api.Requests[0].Body, cli.Api.Requests[1].Body);
    }

    [Fact]
    public async Task Later_requests_of_a_command_start_with_the_director_that_answered()
    {
        var polls = 0;
        var cli = Directors(
            d1: Refused,
            d2: _ => FakeApi.Json(CliHarness.Job(Id, ++polls < 3 ? JobState.Running : JobState.Succeeded)),
            d3: Refused);
        cli.Variables["CONTROLPLANE_URL"] = Urls;

        var run = await cli.RunAsync("wait", Id);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["d1", "d2", "d2", "d2"], cli.Api.Requests.Select(r => r.Uri.Host));
    }

    [Fact]
    public async Task Reads_move_on_past_a_director_that_answers_503_and_the_last_answer_is_reported_when_all_do()
    {
        var unavailable = (RecordedRequest _) => FakeApi.Problem(HttpStatusCode.ServiceUnavailable, "The store is unavailable.");
        var cli = Directors(d1: unavailable, d2: unavailable, d3: unavailable);

        var run = await cli.RunAsync("cluster", "--url", Urls);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(["d1", "d2", "d3"], cli.Api.Requests.Select(r => r.Uri.Host));
        Assert.StartsWith("error: The store is unavailable. (503)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_no_director_answers_each_is_named_and_the_exit_code_is_four()
    {
        var cli = Directors(d1: Refused, d2: Refused, d3: Refused);

        var run = await cli.RunAsync("cancel", Id, "--url", Urls);

        Assert.Equal(4, run.ExitCode);
        Assert.Equal(["d1", "d2", "d3"], cli.Api.Requests.Select(r => r.Uri.Host));
        Assert.Contains("cannot reach any director: http://d1:5080/ (Connection refused (d1:5080)); http://d2:5080/", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_with_an_entry_that_is_not_an_http_url_is_a_usage_error()
    {
        var cli = Directors(d1: Created, d2: Created, d3: Created);

        var run = await cli.RunAsync("cluster", "--url", "http://d1:5080,d2:5080");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("got 'd2:5080'", run.Error, StringComparison.Ordinal);
        Assert.Empty(cli.Api.Requests);
    }

    private static HttpResponseMessage Created(RecordedRequest request) => FakeApi.Json(CliHarness.Job(Id, JobState.Pending), HttpStatusCode.Created);

    private static HttpResponseMessage Refused(RecordedRequest request) =>
        throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({request.Uri.Host}:{request.Uri.Port})");

    private static Func<RecordedRequest, HttpResponseMessage> FailureOf(string failure) => failure switch
    {
        // The connection was made and the request sent: the director may have acted on it.
        "broken" => _ => throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely."),
        "timeout" => _ => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout."),
        _ => _ => FakeApi.Problem(HttpStatusCode.ServiceUnavailable, "The store is unavailable."),
    };

    private static CliHarness Directors(
        Func<RecordedRequest, HttpResponseMessage> d1, Func<RecordedRequest, HttpResponseMessage> d2, Func<RecordedRequest, HttpResponseMessage> d3) =>
        new(request => request.Uri.Host switch
        {
            "d1" => d1(request),
            "d2" => d2(request),
            "d3" => d3(request),
            _ => throw new InvalidOperationException($"unexpected director {request.Uri}"),
        });
}
