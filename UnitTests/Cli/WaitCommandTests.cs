using System.Net;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

public sealed class WaitCommandTests
{
    private const string A = "0193a1b2c3d4e5f60718293a4b5c6d01";
    private const string B = "0193a1b2c3d4e5f60718293a4b5c6d02";

    [Fact]
    public async Task Without_an_event_stream_wait_says_so_and_polls_until_the_job_is_terminal_and_exits_zero_on_success()
    {
        JobState[] states = [JobState.Pending, JobState.Assigned, JobState.Running, JobState.Running, JobState.Succeeded];
        var polls = 0;
        var cli = new CliHarness(r => CliHarness.NoEvents(r) ?? FakeApi.Json(CliHarness.Job(A, states[Math.Min(polls++, states.Length - 1)], worker: "w1")));

        var run = await cli.RunAsync("wait", A);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, cli.Api.Requests.Count(r => !CliHarness.IsEvents(r)));
        Assert.All(cli.Api.Requests.Where(r => !CliHarness.IsEvents(r)), r => Assert.Equal($"/v1/jobs/{A}", r.PathAndQuery));
        Assert.Contains("event stream is unavailable (404", run.Error, StringComparison.Ordinal);
        Assert.Contains("polling instead", run.Error, StringComparison.Ordinal);
        Assert.Contains("Succeeded", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delays_between_polls_double_and_are_capped()
    {
        var polls = 0;
        var cli = new CliHarness(r => CliHarness.NoEvents(r) ?? FakeApi.Json(CliHarness.Job(A, ++polls < 9 ? JobState.Running : JobState.Succeeded)));

        var run = await cli.RunAsync("wait", A);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(new[] { 250, 500, 1000, 2000, 4000, 5000, 5000, 5000 }, cli.Delays.Select(d => (int)d.TotalMilliseconds));
    }

    [Fact]
    public async Task Several_jobs_exit_three_when_one_did_not_succeed_and_finished_jobs_are_not_polled_again()
    {
        var pollsOfB = 0;
        var cli = new CliHarness(r => r.PathAndQuery.EndsWith(A, StringComparison.Ordinal)
            ? FakeApi.Json(CliHarness.Job(A, JobState.Succeeded))
            : FakeApi.Json(CliHarness.Job(B, ++pollsOfB < 3 ? JobState.Running : JobState.Cancelled) with { Error = "cancelled on request" }));

        var run = await cli.RunAsync("wait", A, B);

        Assert.Equal(3, run.ExitCode);
        Assert.Single(cli.Api.Requests, r => r.PathAndQuery.EndsWith(A, StringComparison.Ordinal));
        Assert.Contains($"{B} Cancelled: cancelled on request", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_ends_the_wait_with_exit_five_at_the_deadline()
    {
        var cli = new CliHarness(_ => FakeApi.Json(CliHarness.Job(A, JobState.Running)));

        var run = await cli.RunAsync("wait", A, "--timeout", "10s");

        Assert.Equal(5, run.ExitCode);
        Assert.Equal(TimeSpan.FromSeconds(10), cli.Time.GetUtcNow() - CliHarness.Start);
        Assert.Contains("timed out after 10s: 1 of 1 jobs not finished", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_of_several_jobs_is_an_array_of_the_final_bodies()
    {
        var cli = new CliHarness(r => FakeApi.Json(CliHarness.Job(r.PathAndQuery[^32..], JobState.Succeeded)));

        var run = await cli.RunAsync("wait", A, B, "-o", "json");

        Assert.Equal(0, run.ExitCode);
        var ids = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString());
        Assert.Equal([A, B], ids);
    }

    [Fact]
    public async Task An_unknown_job_fails_the_wait_with_the_problem()
    {
        var cli = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.NotFound, "Job not found", $"No job {A}."));

        var run = await cli.RunAsync("wait", A);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: Job not found (404)", run.Error, StringComparison.Ordinal);
    }
}
