using System.Net;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using static ControlPlane.UnitTests.Client.ScriptedDirectors;

namespace ControlPlane.UnitTests.Client;

/// <summary>problem+json answers become the exception of their case, with a message that says what went wrong.</summary>
public sealed class ErrorMappingTests
{
    private static readonly JobSpec Shell = new() { Executor = "shell", Command = ["/bin/true"] };

    [Fact]
    public async Task A_400_becomes_a_validation_exception_naming_every_field()
    {
        var directors = new ScriptedDirectors((_, _) => Problem(HttpStatusCode.BadRequest, "The request is invalid.", "Two fields are wrong.", extra: new
        {
            errors = new Dictionary<string, string[]> { ["command"] = ["Required for the shell executor."], ["slots"] = ["Between 1 and 1024."] },
        }));

        var e = await Assert.ThrowsAsync<ControlPlaneValidationException>(() => directors.Client().SubmitJobAsync(Shell));

        Assert.Equal(["command", "slots"], e.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Required for the shell executor.", Assert.Single(e.Errors["command"]));
        Assert.Contains("POST /v1/jobs: 400 The request is invalid.", e.Message, StringComparison.Ordinal);
        Assert.Contains("command: Required for the shell executor.", e.Message, StringComparison.Ordinal);
        Assert.Equal(A.AbsoluteUri, e.Director?.AbsoluteUri);
        Assert.Single(directors.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, typeof(ControlPlaneNotFoundException))]
    [InlineData(HttpStatusCode.Conflict, typeof(ControlPlaneConflictException))]
    [InlineData(HttpStatusCode.Unauthorized, typeof(ControlPlaneAuthorizationException))]
    [InlineData(HttpStatusCode.Forbidden, typeof(ControlPlaneAuthorizationException))]
    [InlineData(HttpStatusCode.RequestEntityTooLarge, typeof(ControlPlaneException))]
    [InlineData(HttpStatusCode.InternalServerError, typeof(ControlPlaneException))]
    public async Task Each_status_becomes_its_own_exception_with_the_directors_detail(HttpStatusCode status, Type expected)
    {
        var directors = new ScriptedDirectors((_, _) => Problem(status, "Title.", "What happened this time."));

        var e = await Assert.ThrowsAsync(expected, () => directors.Client().CancelJobAsync("0123456789abcdef0123456789abcdef"));

        var error = Assert.IsAssignableFrom<ControlPlaneException>(e);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal("What happened this time.", error.Problem?.Detail);
        Assert.Contains($"DELETE /v1/jobs/0123456789abcdef0123456789abcdef: {(int)status} Title.", e.Message, StringComparison.Ordinal);
        Assert.Contains("What happened this time.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_with_a_long_retry_after_is_passed_on_at_once_with_the_limit_it_names()
    {
        var directors = new ScriptedDirectors((_, _) => Problem(
            HttpStatusCode.TooManyRequests, "Too many pending jobs.", "12 jobs are pending and Scheduler:MaxPending is 10: no new job is accepted.", 60,
            new { setting = "Scheduler:MaxPending", pending = 12, limit = 10, retryAfterSeconds = 60 }));

        var e = await Assert.ThrowsAsync<ControlPlaneTooManyPendingException>(() => directors.Client().SubmitJobAsync(Shell, "key-1"));

        // 60 s is beyond MaxRetryAfter (10 s): the caller decides, no hidden minute-long wait.
        Assert.Single(directors.Requests);
        Assert.Equal(TimeSpan.FromSeconds(60), e.RetryAfter);
        Assert.Equal("Scheduler:MaxPending", e.Setting);
        Assert.Equal(12, e.Pending);
        Assert.Equal(10, e.Limit);
        Assert.Null(e.Group);
        Assert.Contains("Retry-After: 60 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_without_a_problem_document_says_so()
    {
        var directors = new ScriptedDirectors((_, _) => new HttpResponseMessage(HttpStatusCode.InternalServerError) { Content = new StringContent("<html>oops</html>") });

        var e = await Assert.ThrowsAsync<ControlPlaneException>(() => directors.Client().GetClusterAsync());

        Assert.Null(e.Problem);
        Assert.Contains("GET /v1/cluster: 500", e.Message, StringComparison.Ordinal);
        Assert.Contains("no problem document", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_success_that_is_not_the_expected_record_is_an_error_naming_the_type()
    {
        var directors = new ScriptedDirectors((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("null") });

        var e = await Assert.ThrowsAsync<ControlPlaneException>(() => directors.Client().GetLeaderAsync());

        Assert.Contains("not with a LeaderView", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_carry_the_token_the_key_and_escaped_ids()
    {
        var directors = new ScriptedDirectors((_, _) => Json(HttpStatusCode.Created, new JobView { Id = "x", State = JobState.Pending }));

        await directors.Client().SubmitJobAsync(Shell, "order 17/a");
        await directors.Client().GetJobAsync("a/b?c");

        var submit = directors.Requests[0];
        Assert.Equal("order 17/a", submit.IdempotencyKey);
        Assert.Equal("Bearer token-1", submit.Authorization);
        Assert.Equal("/v1/jobs/a%2Fb%3Fc", directors.Requests[1].Uri.AbsolutePath);
    }
}
