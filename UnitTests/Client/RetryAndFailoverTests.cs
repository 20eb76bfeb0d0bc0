using System.Net;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using static ControlPlane.UnitTests.Client.ScriptedDirectors;

namespace ControlPlane.UnitTests.Client;

/// <summary>Which calls go to another director and which are retried, and after how long (the rule on ControlPlaneClient).</summary>
public sealed class RetryAndFailoverTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";
    private static readonly JobSpec Shell = new() { Executor = "shell", Command = ["/bin/true"] };
    private static readonly JobView Created = new() { Id = Id, State = JobState.Pending, Revision = 7 };

    private static bool IsA(SeenRequest r) => r.Uri.Port == A.Port;

    [Fact]
    public async Task A_refused_connection_moves_even_an_unkeyed_submission_to_the_next_director_which_is_then_preferred()
    {
        var directors = new ScriptedDirectors((r, _) => IsA(r) ? throw Refused() : Json(HttpStatusCode.Created, Created));
        var client = directors.Client();

        var job = await client.SubmitJobAsync(Shell);
        await client.GetJobAsync(Id);

        Assert.Equal(Id, job.Id);
        Assert.Equal([A.Port, B.Port, B.Port], directors.Requests.Select(r => r.Uri.Port));
    }

    [Fact]
    public async Task An_unkeyed_submission_a_director_may_have_received_is_sent_nowhere_else()
    {
        var directors = new ScriptedDirectors((r, _) => IsA(r) ? throw Broken() : Json(HttpStatusCode.Created, Created));

        var e = await Assert.ThrowsAsync<ControlPlaneUnreachableException>(() => directors.Client().SubmitJobAsync(Shell));

        Assert.True(e.MayHaveReachedDirector);
        Assert.Contains("may have received it", e.Message, StringComparison.Ordinal);
        Assert.Contains("Idempotency-Key", e.Message, StringComparison.Ordinal);
        Assert.Single(directors.Requests);
    }

    [Fact]
    public async Task A_keyed_submission_a_director_may_have_received_goes_to_the_next_with_the_same_key()
    {
        var directors = new ScriptedDirectors((r, _) => IsA(r) ? throw Broken() : Json(HttpStatusCode.Created, Created));

        var job = await directors.Client().SubmitJobAsync(Shell, "key-7");

        Assert.Equal(Id, job.Id);
        Assert.Equal([("key-7", A.Port), ("key-7", B.Port)], directors.Requests.Select(r => (r.IdempotencyKey, r.Uri.Port)));
    }

    [Fact]
    public async Task A_503_moves_a_read_to_the_next_director()
    {
        var directors = new ScriptedDirectors((r, _) => IsA(r)
            ? Problem(HttpStatusCode.ServiceUnavailable, "The store is unavailable.", "Retry shortly.", 1)
            : Json(HttpStatusCode.OK, Created));

        var read = await directors.Client().GetJobAsync(Id);

        Assert.Equal(Id, read.Id);
        Assert.Equal([A.Port, B.Port], directors.Requests.Select(r => r.Uri.Port));
    }

    [Fact]
    public async Task A_503_to_an_unkeyed_submission_is_neither_failed_over_nor_retried()
    {
        var directors = new ScriptedDirectors((r, _) => IsA(r)
            ? Problem(HttpStatusCode.ServiceUnavailable, "The submission's outcome is unknown.", "The store did not confirm the write.", 1)
            : Json(HttpStatusCode.Created, Created));

        var e = await Assert.ThrowsAsync<ControlPlaneUnavailableException>(() => directors.Client().SubmitJobAsync(Shell));

        Assert.Single(directors.Requests);
        Assert.Equal(TimeSpan.FromSeconds(1), e.RetryAfter);
        Assert.Contains("did not confirm", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_retried_after_its_retry_after_and_not_before()
    {
        var time = new ManualTimeProvider();
        var directors = new ScriptedDirectors((_, n) => n == 0
            ? Problem(HttpStatusCode.TooManyRequests, "Too many pending jobs.", "Refused.", 2)
            : Json(HttpStatusCode.Created, Created));
        var client = directors.Client(time: time);

        var submit = client.SubmitJobAsync(Shell);
        await Eventually.UntilAsync(() => directors.Requests.Count == 1 && time.PendingTimers == 1, TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(1, time.PendingTimers);
        Assert.Single(directors.Requests);
        // Retry-After plus up to a quarter of jitter: due by 2.5 s.
        time.Advance(TimeSpan.FromSeconds(0.7));

        Assert.Equal(Id, (await submit).Id);
        Assert.Equal(2, directors.Requests.Count);
    }

    [Fact]
    public async Task A_read_is_retried_when_every_director_answered_503_and_gives_up_after_the_limit()
    {
        var time = new ManualTimeProvider();
        var directors = new ScriptedDirectors((_, _) => Problem(HttpStatusCode.ServiceUnavailable, "The store is unavailable.", "Retry shortly.", 1));
        var client = directors.Client(o => o.MaxRetryAttempts = 2, time);

        var read = client.GetClusterAsync();
        for (var walk = 1; walk <= 2; walk++)
        {
            var expected = walk * 2;
            await Eventually.UntilAsync(() => directors.Requests.Count == expected && time.PendingTimers == 1, TimeSpan.FromSeconds(10));
            time.Advance(TimeSpan.FromSeconds(1.3));
        }

        var e = await Assert.ThrowsAsync<ControlPlaneUnavailableException>(() => read);
        // Three walks over both directors: the first and two retries.
        Assert.Equal(6, directors.Requests.Count);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
    }

    [Fact]
    public async Task When_no_director_can_be_reached_the_error_names_each_and_says_nothing_arrived()
    {
        var directors = new ScriptedDirectors((_, _) => throw Refused());
        var client = directors.Client(o => o.MaxRetryAttempts = 0);

        var e = await Assert.ThrowsAsync<ControlPlaneUnreachableException>(() => client.SubmitJobAsync(Shell));

        Assert.False(e.MayHaveReachedDirector);
        Assert.Contains(A.Authority, e.Message, StringComparison.Ordinal);
        Assert.Contains(B.Authority, e.Message, StringComparison.Ordinal);
        Assert.Equal(2, directors.Requests.Count);
    }

    [Fact]
    public async Task A_trigger_is_not_sent_again_after_a_503()
    {
        var directors = new ScriptedDirectors((_, _) => Problem(HttpStatusCode.ServiceUnavailable, "The outcome is unknown.", "Maybe.", 1));

        await Assert.ThrowsAsync<ControlPlaneUnavailableException>(() => directors.Client().TriggerScheduleAsync(Id));

        Assert.Single(directors.Requests);
    }
}
