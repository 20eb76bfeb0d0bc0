using System.Net;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

/// <summary><c>cpctl explain</c> and <c>cpctl doctor</c>: requests, text, JSON and exit codes.</summary>
public sealed class DoctorCommandsTests
{
    private static readonly DoctorReport Healthy = new(
        CheckStatus.Ok, [new("leader", CheckStatus.Ok, "exactly one leader: d1 (epoch 12)"), new("store", CheckStatus.Ok, "etcd: 3 of 3 members answer")], "d1", CliHarness.Start, 99);

    [Fact]
    public async Task Explain_prints_the_state_the_deciding_reason_and_the_others()
    {
        var explanation = new JobExplanation
        {
            Id = "0193a1b2c3d4e5f60718293a4b5c6d7e", State = JobState.Pending, Attempt = 1, Since = CliHarness.Start.AddMinutes(-5), JudgedAt = CliHarness.Start.AddSeconds(-2),
            Reasons = [new(ExplainCodes.NoLabel, "no worker has the labels it needs: gpu=1 (missing on 3) of 3 workers with executor 'shell'; 1 job like it wait"), new(ExplainCodes.Admission, "admission control refuses new jobs")],
        };
        var cli = new CliHarness(_ => FakeApi.Json(explanation));

        var run = await cli.RunAsync("explain", "0193a1b2c3d4e5f60718293a4b5c6d7e");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/v1/jobs/0193a1b2c3d4e5f60718293a4b5c6d7e/explain", Assert.Single(cli.Api.Requests).PathAndQuery);
        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("state:  Pending (attempt 1)", lines[1]);
        Assert.Equal("since:  2026-03-01 11:55:00Z (5m ago)", lines[2]);
        Assert.StartsWith("why:    no worker has the labels it needs: gpu=1", lines[3], StringComparison.Ordinal);
        Assert.Equal("also:   admission control refuses new jobs", lines[4]);
        Assert.Equal("as of:  the leader's pass published 2s ago", lines[5]);
    }

    [Fact]
    public async Task Explain_of_an_unknown_job_is_an_error_and_json_prints_the_body()
    {
        var missing = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.NotFound, "Not found.", "No job x."));
        var json = new CliHarness(_ => FakeApi.Json(new JobExplanation { Id = "j", Summary = "queued", Reasons = [new(ExplainCodes.Queued, "queued")] }));

        var notFound = await missing.RunAsync("explain", "x");
        var raw = await json.RunAsync("explain", "j", "-o", "json");

        Assert.Equal(1, notFound.ExitCode);
        Assert.Contains("No job x.", notFound.Error, StringComparison.Ordinal);
        Assert.Equal(0, raw.ExitCode);
        Assert.Contains("\"code\": \"queued\"", raw.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CheckStatus.Ok, 0)]
    [InlineData(CheckStatus.Warn, 1)]
    [InlineData(CheckStatus.Fail, 2)]
    public async Task Doctor_exits_0_1_or_2_for_OK_WARN_or_FAIL_in_text_and_json(CheckStatus status, int code)
    {
        var report = Healthy with { Status = status };
        var cli = new CliHarness(_ => FakeApi.Json(report));

        var text = await cli.RunAsync("doctor");
        var json = await cli.RunAsync("doctor", "-o", "json");

        Assert.Equal((code, code), (text.ExitCode, json.ExitCode));
        Assert.Equal("/v1/doctor", cli.Api.Requests[0].PathAndQuery);
        Assert.Contains($"\"status\": \"{(status == CheckStatus.Ok ? "OK" : status.ToString().ToUpperInvariant())}\"", json.Out, StringComparison.Ordinal);
        Assert.StartsWith(status == CheckStatus.Ok ? "OK" : status.ToString().ToUpperInvariant(), text.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_prints_each_check_and_for_problems_their_particulars_and_what_to_do()
    {
        var report = new DoctorReport(
            CheckStatus.Fail,
            [
                new("leader", CheckStatus.Ok, "exactly one leader: d1 (epoch 12)", null, ["leader d1 epoch 12"]),
                new("assignments", CheckStatus.Fail, "2 assignments in flight, 1 without their job or their worker's session", "Delete it.", ["assignments/w-1/abc.1: its job abc does not exist"]),
                new("versions", CheckStatus.Warn, "2 versions: 0.0.9 (1), 0.1.0 (3)", "Finish the upgrade.", ["0.0.9: agent w-old"]),
            ],
            "d1", CliHarness.Start, 99);
        var cli = new CliHarness(_ => FakeApi.Json(report));

        var run = await cli.RunAsync("doctor");

        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("OK    leader         exactly one leader: d1 (epoch 12)", lines[0]);
        Assert.Equal("FAIL  assignments    2 assignments in flight, 1 without their job or their worker's session", lines[1]);
        Assert.Equal("                     - assignments/w-1/abc.1: its job abc does not exist", lines[2]);
        Assert.Equal("                     do: Delete it.", lines[3]);
        Assert.StartsWith("WARN  versions", lines[4], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("leader d1 epoch 12", StringComparison.Ordinal));
        Assert.Equal("FAIL (checked by director d1 at revision 99)", lines[^1]);
    }

    [Fact]
    public async Task Doctor_that_cannot_reach_the_director_exits_4()
    {
        var cli = new CliHarness(_ => throw new HttpRequestException("connection refused"));

        var run = await cli.RunAsync("doctor");

        Assert.Equal(4, run.ExitCode);
        Assert.Empty(run.Out);
    }
}
