using System.Net;
using System.Net.Http.Headers;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Cli;

/// <summary><c>cpctl submit</c> against a director that refuses with 429 (admission control): it waits Retry-After and
/// retries within <c>--retry-for</c>, then exits 6. The retry waits on the harness's manual clock, which the tests
/// move forward whenever cpctl is waiting on it.</summary>
public sealed class SubmitAdmissionTests
{
    private const string Id = "0193a1b2c3d4e5f60718293a4b5c6d7e";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_refused_submission_is_sent_again_after_retry_after_until_it_is_accepted()
    {
        var answers = 0;
        var cli = new CliHarness(_ => ++answers <= 2 ? Busy(TimeSpan.FromSeconds(2)) : FakeApi.Json(CliHarness.Job(Id, JobState.Pending), HttpStatusCode.Created));

        var (run, waited) = await RunDrivingClockAsync(cli, "submit", "shell", "-k", "order-17", "-q", "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Id + Environment.NewLine, run.Out);
        Assert.Equal(3, cli.Api.Requests.Count);
        // The same request every time: same body, same key, so a retry can never create a second job.
        Assert.Single(cli.Api.Requests.Select(r => (r.Body, r.Headers["Idempotency-Key"])).Distinct());
        // Each wait is Retry-After plus at most a quarter of jitter.
        Assert.InRange(waited, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5.5));
        Assert.Equal(2, run.Error.Split(Environment.NewLine).Count(l => l.StartsWith("director busy (3 jobs are pending", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_director_that_keeps_refusing_is_given_up_on_within_retry_for_and_exits_six()
    {
        var cli = new CliHarness(_ => Busy(TimeSpan.FromSeconds(2)));

        var (run, waited) = await RunDrivingClockAsync(cli, "submit", "shell", "--retry-for", "5s", "--", "/bin/true");

        Assert.Equal(6, run.ExitCode);
        Assert.InRange(cli.Api.Requests.Count, 2, 3);
        Assert.True(waited <= TimeSpan.FromSeconds(5.5), $"waited {waited}");
        Assert.Contains("error: Too many pending jobs. (429)", run.Error, StringComparison.Ordinal);
        Assert.Contains("hint: nothing was created", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task Retry_for_zero_never_retries()
    {
        var cli = new CliHarness(_ => Busy(TimeSpan.FromSeconds(1)));

        var run = await cli.RunAsync("submit", "shell", "--retry-for", "0", "--", "/bin/true");

        Assert.Equal(6, run.ExitCode);
        Assert.Single(cli.Api.Requests);
        Assert.DoesNotContain("director busy", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refusal_without_retry_after_waits_one_second()
    {
        var answers = 0;
        var cli = new CliHarness(_ => ++answers == 1 ? Busy(null) : FakeApi.Json(CliHarness.Job(Id, JobState.Pending), HttpStatusCode.Created));

        var (run, waited) = await RunDrivingClockAsync(cli, "submit", "shell", "--", "/bin/true");

        Assert.Equal(0, run.ExitCode);
        Assert.InRange(waited, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task Other_errors_are_not_retried()
    {
        // A 503 to a submission without a key may have created the job: sending it again is the user's decision.
        var cli = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.ServiceUnavailable, "The store is unavailable."));

        var run = await cli.RunAsync("submit", "shell", "--", "/bin/true");

        Assert.Equal(1, run.ExitCode);
        Assert.Single(cli.Api.Requests);
    }

    private static HttpResponseMessage Busy(TimeSpan? retryAfter)
    {
        var response = FakeApi.Problem(
            (HttpStatusCode)429,
            "Too many pending jobs.",
            "3 jobs are pending and Scheduler:MaxPending is 3: no new job is accepted until the queue drains below the limit.");
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(delay);
        }

        return response;
    }

    /// <summary>Runs cpctl and moves the manual clock in small steps whenever a timer (the retry's wait) is pending,
    /// until the run ends; returns the run and how far the clock moved.</summary>
    private static async Task<(CliRun Run, TimeSpan Waited)> RunDrivingClockAsync(CliHarness cli, params string[] args)
    {
        var step = TimeSpan.FromMilliseconds(100);
        var start = cli.Time.GetUtcNow();
        var run = Task.Run(() => cli.RunAsync(args));
        // Bounded: 2,000 steps are 200 s of clock, far beyond any wait these tests allow.
        for (var steps = 0; steps < 2000 && !run.IsCompleted; steps++)
        {
            await Eventually.UntilAsync(() => run.IsCompleted || cli.Time.PendingTimers > 0, Deadline);
            if (!run.IsCompleted)
            {
                cli.Time.Advance(step);
            }
        }

        return (await Eventually.WithinAsync(run, Deadline, "cpctl to finish"), cli.Time.GetUtcNow() - start);
    }
}
